#!/usr/bin/env bash
# Benchmark: `migration-creator next-number` on a folder of 10,000 migrations,
# against the shell pipeline the original agent used
# (`ls migrations/*.py | sort | tail -1`), in the same run.
# Usage: scripts/bench-next-number.sh [MIGRATIONS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
runs=${2:-20}
cargo build --release --quiet
bin=$PWD/target/release/migration-creator
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/migrations"
for i in $(seq 1 "$count"); do
  printf 'from yoyo import step\nsteps = [step("CREATE TABLE t%d (id TEXT PRIMARY KEY)", "DROP TABLE t%d")]\n' "$i" "$i" \
    > "$work/migrations/$(printf '%05d' "$i")_create_t$i.py"
done
cd "$work"
"$bin" next-number > /dev/null
best() { # best wall time in microseconds over $runs runs of "$@"
  local best=999999999 t0 t1 us
  for _ in $(seq 1 "$runs"); do
    t0=$(date +%s%N); "$@" > /dev/null; t1=$(date +%s%N)
    us=$(( (t1 - t0) / 1000 ))
    (( us < best )) && best=$us
  done
  echo "$best"
}
n=$(best "$bin" next-number)
p=$(best sh -c 'ls migrations/*.py | sort | tail -1')
printf 'migrations: %s, best of %s runs\n' "$count" "$runs"
printf 'next-number:           %d.%03d ms\n' $((n / 1000)) $((n % 1000))
printf 'ls | sort | tail -1:   %d.%03d ms\n' $((p / 1000)) $((p % 1000))
awk -v n="$n" -v p="$p" 'BEGIN { printf "ratio next-number/pipeline: %.2f\n", n / p }'
