#!/usr/bin/env bash
# How long does a no-op `apply` of every stage take on a node where everything is in place:
# nouveau blacklisted, driver and toolkit installed and held, containerd configured? Its
# package stages read dpkg's status file and run nothing. The peer, measured in the same run,
# is `dpkg-query -W` of the same status file (the cheapest way a script would ask dpkg), and
# `apt-get -s install dpkg` (a no-op that a script which "just runs apt" pays for).
# The status file is this machine's own (/var/lib/dpkg/status, its real size) plus the driver
# and toolkit entries; the GPU is the shared GT 1030 dump.
# Usage: bench/apply-noop.sh [BINARY] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/cli/gpu-node-setup}")
runs=${2:-50}
dump=$(realpath "${GNS_SHARED_FIXTURES:-../shared/fixtures}")/pci/gt1030-x2-hdmi-audio.lspci-xxx.txt
for tool in containerd dpkg-query apt-get; do
  command -v "$tool" > /dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench: build first (cmake --build build); no $bin" >&2; exit 1; }
[ -f "$dump" ] || { echo "bench: no $dump (GNS_SHARED_FIXTURES)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/etc/containerd" "$root/etc/modprobe.d" "$root/var/lib/dpkg"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' > "$root/etc/os-release"
printf 'blacklist nouveau\n' > "$root/etc/modprobe.d/blacklist-nouveau.conf"
containerd config default > "$root/etc/containerd/config.toml"
{
  cat /var/lib/dpkg/status
  printf '\nPackage: cuda-drivers-580\nStatus: hold ok installed\nVersion: 580.95.05-1\n'
  for name in nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1; do
    printf '\nPackage: %s\nStatus: hold ok installed\nVersion: 1.17.8-1\n' "$name"
  done
} > "$root/var/lib/dpkg/status"
apply=("$bin" --root "$root" --pci-dump "$dump" apply --runtime=containerd --no-restart)
"${apply[@]}" > /dev/null  # configures containerd once; every later run is a no-op
"${apply[@]}" | grep -q 'runtime: nothing to do' || { echo "bench: the second apply was not a no-op" >&2; exit 1; }

mean_ms() {
  local total=0 start end i
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    "$@" > /dev/null 2>&1 || true
    end=$(date +%s%N)
    total=$((total + end - start))
  done
  awk -v t="$total" -v n="$runs" 'BEGIN { printf "%.2f", t / n / 1e6 }'
}

noop=$(mean_ms "${apply[@]}")
query=$(mean_ms dpkg-query --admindir="$root/var/lib/dpkg" -W)
simulate=$(mean_ms apt-get -s -o Dir::State::status="$root/var/lib/dpkg/status" install dpkg)
packages=$(grep -c '^Package:' "$root/var/lib/dpkg/status")
echo "no-op apply, all four stages:  $noop ms per run ($runs runs, $packages packages in dpkg status)"
echo "dpkg-query -W (peer):          $query ms per run"
echo "apt-get -s install dpkg (peer): $simulate ms per run"
echo "no-op apply / dpkg-query -W:   $(awk -v a="$noop" -v b="$query" 'BEGIN { printf "%.2f", a / b }')"
echo "no-op apply / apt-get -s:      $(awk -v a="$noop" -v b="$simulate" 'BEGIN { printf "%.2f", a / b }')"
