#!/usr/bin/env bash
# Benchmark for lint: N migrations (default 1000; a mix of new tables, added
# columns with defaults, indexes, a unique index, renames and data steps, each
# with a rollback) linted in one run, against its peer in the same run:
# yoyo's own `read_migrations` loading the same folder (importing every file,
# no database). Target: under a second for 1,000 migrations.
# Needs .venv/bin/python with yoyo (scripts/test-all.sh creates it).
# Usage: scripts/bench-lint.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000}
cargo build --release --quiet
bin=$PWD/target/release/migration-creator
python=$PWD/.venv/bin/python
[ -x "$python" ] || { echo "no $python: run scripts/test-all.sh first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

mkdir -p "$work/p/migrations"
for i in $(seq 1 "$count"); do
  t=$(( (i - 1) / 4 + 1 ))
  f="$work/p/migrations/$(printf '%04d' "$i")_m$i.py"
  case $(( i % 4 )) in
    1) printf 'from yoyo import step\nsteps = [step("CREATE TABLE t%d (id INTEGER PRIMARY KEY, name TEXT, ref INTEGER REFERENCES t%d(id))", "DROP TABLE t%d")]\n' "$t" "$t" "$t" ;;
    2) printf 'from yoyo import step\nsteps = [step("ALTER TABLE t%d ADD COLUMN score INTEGER NOT NULL DEFAULT 0 CHECK (score >= 0)", "ALTER TABLE t%d DROP COLUMN score")]\n' "$t" "$t" ;;
    3) printf 'from yoyo import step\nsteps = [\n    step("CREATE INDEX t%d_name ON t%d (name)", "DROP INDEX t%d_name"),\n    step("UPDATE t%d SET name = '"'"'x'"'"' WHERE name IS NULL", "SELECT 1"),\n]\n' "$t" "$t" "$t" "$t" ;;
    0) printf 'from yoyo import step\nsteps = [\n    step("CREATE UNIQUE INDEX t%d_ref ON t%d (ref)", "DROP INDEX t%d_ref"),\n    step("ALTER TABLE t%d RENAME COLUMN name TO label", "ALTER TABLE t%d RENAME COLUMN label TO name"),\n]\n' "$t" "$t" "$t" "$t" "$t" ;;
  esac > "$f"
done
# Sanity: every migration linted, no error, and yoyo reads them all.
"$bin" lint -C "$work/p" --format json | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["ok"] and r["summary"]["files"] == '"$count"', r["summary"]'
read_folder() {
  "$python" -c 'import sys; from yoyo import read_migrations
ms = read_migrations(sys.argv[1])
for m in ms: m.load()
assert len(ms) == int(sys.argv[2]) and all(m.steps for m in ms)' "$work/p/migrations" "$count"
}
read_folder
lint_ms=$(best 5 "$bin" lint -C "$work/p" --format json)
schema_ms=$(best 5 "$bin" schema -C "$work/p")
yoyo_ms=$(best 5 read_folder)
echo "lint, $count migrations: ${lint_ms} ms; yoyo read_migrations of the same folder: ${yoyo_ms} ms; ratio $(ratio "$lint_ms" "$yoyo_ms") (target: under 1000 ms)"
echo "schema (the same migrations applied in memory, no checks): ${schema_ms} ms; lint / schema $(ratio "$lint_ms" "$schema_ms")"
