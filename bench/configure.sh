#!/usr/bin/env bash
# How long does `configure --runtime=containerd` take on a stock config (containerd config
# default), and a no-op re-run on a configured one? Prints ms per run for each, peak RSS, and
# the ratio against `containerd config dump` of the same file, measured in the same run.
# Usage: bench/configure.sh [BINARY] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/cli/gpu-node-setup}")
runs=${2:-50}
for tool in containerd /usr/bin/time; do
  command -v "$tool" > /dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench: build first (cmake --build build); no $bin" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/stock/etc/containerd"
containerd config default > "$work/stock/etc/containerd/config.toml"

# Prints the mean wall time of "$@" in ms over $runs runs; `prepare` runs before each, untimed.
mean_ms() {
  local prepare=$1 total=0 start end i
  shift
  for ((i = 0; i < runs; i++)); do
    $prepare
    start=$(date +%s%N)
    "$@" > /dev/null
    end=$(date +%s%N)
    total=$((total + end - start))
  done
  awk -v t="$total" -v n="$runs" 'BEGIN { printf "%.2f", t / n / 1e6 }'
}

fresh_root() { rm -rf "$work/root"; cp -a "$work/stock" "$work/root"; }
nothing() { :; }

configure=("$bin" --root "$work/root" configure --runtime=containerd)
first=$(mean_ms fresh_root "${configure[@]}")
fresh_root
"${configure[@]}" > /dev/null
noop=$(mean_ms nothing "${configure[@]}")
dump=$(mean_ms nothing containerd --config "$work/root/etc/containerd/config.toml" config dump)
rss_kb=$(/usr/bin/time -f %M "${configure[@]}" 2>&1 > /dev/null | tail -n 1)

echo "configure on a stock config: $first ms per run ($runs runs)"
echo "no-op re-run:                $noop ms per run"
echo "containerd config dump:      $dump ms per run (peer, same file)"
echo "no-op / config dump:         $(awk -v a="$noop" -v b="$dump" 'BEGIN { printf "%.2f", a / b }')"
echo "peak RSS of a no-op re-run:  $((rss_kb / 1024)) MiB ($rss_kb KiB)"
