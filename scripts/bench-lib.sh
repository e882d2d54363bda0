# Shared by the benchmark scripts (sourced, not run): timing and ratios.

# best RUNS CMD...: the best wall time in ms over RUNS runs of CMD, its
# output and exit status ignored.
best() {
  local runs=$1; shift
  local best=999999999 t0 t1 ms
  for _ in $(seq 1 "$runs"); do
    t0=$(date +%s%N); "$@" > /dev/null 2>&1 || true; t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))
    (( ms < best )) && best=$ms
  done
  echo "$best"
}

# ratio A B: A / B as "1.23x".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / (b > 0 ? b : 1) }'; }
