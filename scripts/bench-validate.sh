#!/usr/bin/env bash
# Benchmark: `migration-creator validate` over 1,000 agent files in one
# process, against reading the same files with `cat`, in the same run.
# Usage: scripts/bench-validate.sh [FILES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-1000}
runs=${2:-10}
cargo build --release --quiet
bin=target/release/migration-creator
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/.claude/agents"
for i in $(seq 1 "$files"); do
  # A realistic agent: the shipped one, renamed, about 5 KB each.
  sed "s/^name: migration-creator$/name: agent-$i/" agents/migration-creator.md > "$work/.claude/agents/agent-$i.md"
done
# Warm the page cache once.
cat "$work"/.claude/agents/*.md > /dev/null
"$bin" validate -C "$work" > /dev/null

best() { # best wall time in ms over $runs runs of "$@"
  local best=999999 t0 t1 ms
  for _ in $(seq 1 "$runs"); do
    t0=$(date +%s%N); "$@" > /dev/null; t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000 ))
    (( ms < best )) && best=$ms
  done
  echo "$best"
}
v=$(best "$bin" validate -C "$work")
c=$(best sh -c "cat '$work'/.claude/agents/*.md")
printf 'files: %s, best of %s runs\n' "$files" "$runs"
printf 'validate: %d.%03d ms\n' $((v / 1000)) $((v % 1000))
printf 'cat:      %d.%03d ms\n' $((c / 1000)) $((c % 1000))
awk -v v="$v" -v c="$c" 'BEGIN { printf "ratio validate/cat: %.2f\n", v / c }'
