#!/usr/bin/env bash
# Benchmarks for test-apply, each against its peer in the same run:
#  1. 50 small pending migrations, the whole round trip (apply, roll back,
#     re-apply, with the checks):
#     - the yoyo engine against a plain `yoyo apply` of the same folder on a
#       fresh database (target: at most 2x);
#     - the native engine against the sqlite3 CLI applying the 50 statements
#       once (target: at most 3x);
#  2. full test-apply runs (copy, schema snapshots, checks) of a 256 MiB and a
#     1 GiB database with nothing pending, against `cp` of the same file
#     (target: at most 1.5x); --schema-only against the full copy.
# Needs .venv/bin/yoyo (scripts/test-all.sh creates it) and sqlite3.
# Usage: scripts/bench-test-apply.sh [MIGRATIONS] [DB_MIB...]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-50}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(256 1024)
cargo build --release --quiet
bin=$PWD/target/release/migration-creator
yoyo=$PWD/.venv/bin/yoyo
[ -x "$yoyo" ] || { echo "no $yoyo: run scripts/test-all.sh first" >&2; exit 2; }
command -v sqlite3 > /dev/null || { echo "no sqlite3 CLI (apt-get install sqlite3)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

# 1. Engines.
mkdir -p "$work/p/migrations"
: > "$work/statements.sql"
for i in $(seq 1 "$count"); do
  printf 'from yoyo import step\nsteps = [step("CREATE TABLE t%d (id TEXT PRIMARY KEY, v TEXT)", "DROP TABLE t%d")]\n' "$i" "$i" \
    > "$work/p/migrations/$(printf '%04d' "$i")_create_t$i.py"
  printf 'CREATE TABLE t%d (id TEXT PRIMARY KEY, v TEXT);\n' "$i" >> "$work/statements.sql"
done
yoyo_apply() {
  rm -f "$work/plain.db"
  "$yoyo" apply --batch --no-config-file --database "sqlite:///$work/plain.db" "$work/p/migrations"
}
sqlite_cli() {
  rm -f "$work/cli.db"
  sqlite3 "$work/cli.db" < "$work/statements.sql"
}
"$bin" test-apply -C "$work/p" --engine yoyo --yoyo "$yoyo" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["ok"] and len(r["applied"]) == '"$count"', r'
"$bin" test-apply -C "$work/p" --engine native | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["ok"] and len(r["applied"]) == '"$count"', r'
yoyo_engine=$(best 5 "$bin" test-apply -C "$work/p" --engine yoyo --yoyo "$yoyo")
plain_yoyo=$(best 5 yoyo_apply)
native=$(best 10 "$bin" test-apply -C "$work/p" --engine native)
cli=$(best 10 sqlite_cli)
echo "$count pending migrations:"
echo "  test-apply --engine yoyo (apply, roll back, re-apply): ${yoyo_engine} ms"
echo "  yoyo apply (once, fresh database):                     ${plain_yoyo} ms"
echo "  ratio: $(ratio "$yoyo_engine" "$plain_yoyo") (target <= 2x)"
echo "  test-apply --engine native (apply, roll back, re-apply): ${native} ms"
echo "  sqlite3 CLI applying the $count statements once:          ${cli} ms"
echo "  ratio: $(ratio "$native" "$cli") (target <= 3x)"

# 2. Copy.
for mib in "${sizes[@]}"; do
  mkdir -p "$work/big$mib/migrations"
  db="$work/big$mib/app.db"
  python3 - "$db" "$mib" <<'PY'
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
chunk = os.urandom(1024 * 1024)
for i in range(int(sys.argv[2])):
    conn.execute("INSERT INTO blobs (data) VALUES (?)", (chunk,))
conn.commit()
conn.close()
PY
  cat "$db" > /dev/null
  # cp to a new file, timed alone (test-apply's figure also includes
  # removing its copy, which for 1 GiB on ext4 is about 60 ms).
  cp_only() { cp "$1" "$work/copy.db"; }
  whole=$(best 3 "$bin" test-apply -C "$work/big$mib" --engine native --database "sqlite:///$db")
  cp_ms=999999999
  for _ in 1 2 3; do
    rm -f "$work/copy.db"
    t=$(best 1 cp_only "$db")
    (( t < cp_ms )) && cp_ms=$t
  done
  schema=$(best 3 "$bin" test-apply -C "$work/big$mib" --engine native --database "sqlite:///$db" --schema-only)
  rm -f "$work/copy.db"
  echo "$(du -m "$db" | cut -f1) MiB database, nothing pending:"
  echo "  whole test-apply run (copy, snapshots, checks): ${whole} ms"
  echo "  cp of the same file to a new file (no rm):     ${cp_ms} ms"
  echo "  ratio: $(ratio "$whole" "$cp_ms") (target <= 1.5x)"
  echo "  --schema-only run: ${schema} ms"
  rm -rf "$work/big$mib"
done
