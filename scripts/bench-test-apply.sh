#!/usr/bin/env bash
# Benchmarks for test-apply, each against its peer in the same run:
#  1. 50 small pending migrations: the native engine against the yoyo engine
#     (target: native at least 20 times faster);
#  2. a 1 GiB database: test-apply's full copy against `cp` of the same file
#     (target: under 1.5 times), and --schema-only against the full copy.
# Needs .venv/bin/yoyo (scripts/test-all.sh creates it).
# Usage: scripts/bench-test-apply.sh [MIGRATIONS] [DB_MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-50}
mib=${2:-1024}
cargo build --release --quiet
bin=$PWD/target/release/migration-creator
yoyo=$PWD/.venv/bin/yoyo
[ -x "$yoyo" ] || { echo "no $yoyo: run scripts/test-all.sh first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

best() { # best wall time in ms over $1 runs of the rest
  local runs=$1; shift
  local best=999999999 t0 t1 ms
  for _ in $(seq 1 "$runs"); do
    t0=$(date +%s%N); "$@" > /dev/null || true; t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))
    (( ms < best )) && best=$ms
  done
  echo "$best"
}

# 1. Engines.
mkdir -p "$work/p/migrations"
for i in $(seq 1 "$count"); do
  printf 'from yoyo import step\nsteps = [step("CREATE TABLE t%d (id TEXT PRIMARY KEY, v TEXT)", "DROP TABLE t%d")]\n' "$i" "$i" \
    > "$work/p/migrations/$(printf '%04d' "$i")_create_t$i.py"
done
native=$(best 10 "$bin" test-apply -C "$work/p" --engine native)
yoyo_ms=$(best 2 "$bin" test-apply -C "$work/p" --engine yoyo --yoyo "$yoyo")
echo "$count pending migrations (apply, roll back, re-apply):"
echo "  native engine: ${native} ms"
echo "  yoyo engine:   ${yoyo_ms} ms"
awk -v n="$native" -v y="$yoyo_ms" 'BEGIN { printf "  yoyo/native: %.1fx\n", y / (n > 0 ? n : 1) }'

# 2. Copy.
mkdir -p "$work/big/migrations"
python3 - "$work/big/app.db" "$mib" <<'PY'
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
chunk = os.urandom(1024 * 1024)
for i in range(int(sys.argv[2])):
    conn.execute("INSERT INTO blobs (data) VALUES (?)", (chunk,))
conn.commit()
conn.close()
PY
db="$work/big/app.db"
cat "$db" > /dev/null
copy_ms() { # best copy_duration_ms reported by test-apply over 3 runs
  local best=999999999 ms
  for _ in 1 2 3; do
    ms=$("$bin" test-apply -C "$work/big" --engine native --database "sqlite:///$db" "$@" \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["database"]["copy_duration_ms"])')
    (( ms < best )) && best=$ms
  done
  echo "$best"
}
full=$(copy_ms)
fresh_cp() { # cp to a new file, as test-apply copies to a new scratch file
  rm -f "$work/copy.db"; cp "$db" "$work/copy.db"
}
cp_ms=$(best 3 fresh_cp)
schema=$(copy_ms --schema-only)
whole=$(best 3 "$bin" test-apply -C "$work/big" --engine native --database "sqlite:///$db")
echo "$(du -m "$db" | cut -f1) MiB database, nothing pending (copy_duration_ms from test-apply's report):"
echo "  full copy (rollback-journal database: a copy under SQLite's shared lock): ${full} ms"
echo "  cp of the same file:      ${cp_ms} ms"
echo "  --schema-only copy:       ${schema} ms"
echo "  whole test-apply run:     ${whole} ms (copy, schema snapshots, integrity_check)"
awk -v f="$full" -v c="$cp_ms" -v s="$schema" 'BEGIN { printf "  full/cp: %.2fx   schema-only/full: %.4fx\n", f / c, s / (f > 0 ? f : 1) }'
# The same database in WAL mode, held open by another process with a frame
# in its WAL: copied with the backup API, which reads through the WAL.
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")' "$db"
python3 - "$db" <<'PY' &
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint = 0")
conn.execute("CREATE TABLE held_open (x)")
time.sleep(120)
PY
holder=$!
sleep 1
wal=$(copy_ms)
kill "$holder" 2>/dev/null || true
echo "  the same database in WAL mode, held open with WAL frames (backup API): ${wal} ms"
awk -v w="$wal" -v c="$cp_ms" 'BEGIN { printf "  wal/cp: %.2fx\n", w / c }'
