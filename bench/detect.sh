#!/usr/bin/env bash
# How fast is `detect --pci-dump` next to `lspci -F FILE -nn` on the largest shared dump?
# Both are run in the same script, alternating, several rounds of many runs each; prints each
# round's per-run times and the median ratio detect/lspci (below 1.0: detect is faster).
# Usage: bench/detect.sh [BINARY] [ROUNDS] [RUNS_PER_ROUND]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/cli/gpu-node-setup}
rounds=${2:-5}
runs=${3:-100}
fixtures=${GNS_SHARED_FIXTURES:-../shared/fixtures}
command -v lspci >/dev/null || { echo "bench: lspci is not installed" >&2; exit 1; }
[ -x "$bin" ] || { echo "bench: build first (cmake --build build); no $bin" >&2; exit 1; }

dump=$(ls -S "$fixtures"/pci/*.txt | head -n 1)
functions=$(lspci -F "$dump" -n | wc -l)
echo "dump: $(basename "$dump") ($functions functions, $(stat -c %s "$dump") bytes)"

# Prints the mean wall time of one run of "$@", in microseconds, over $runs runs.
mean_us() {
  local start end i
  start=$(date +%s%N)
  for ((i = 0; i < runs; i++)); do "$@" > /dev/null 2>&1 || [ $? -eq 3 ]; done
  end=$(date +%s%N)
  echo $(((end - start) / runs / 1000))
}

ratios=()
for ((round = 1; round <= rounds; round++)); do
  detect_us=$(mean_us "$bin" detect --json --pci-dump "$dump")
  lspci_us=$(mean_us lspci -F "$dump" -nn)
  ratio=$(awk -v d="$detect_us" -v l="$lspci_us" 'BEGIN { printf "%.2f", d / l }')
  ratios+=("$ratio")
  echo "round $round: detect ${detect_us} us, lspci -nn ${lspci_us} us, ratio $ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "median ratio detect/lspci: $median"
