#!/usr/bin/env bash
# On Debian the driver stage installs a branch metapackage from NVIDIA's CUDA repository
# (cuda-drivers-580, nvidia-open-580), whose dependencies on the packages that are the driver
# (nvidia-driver-cuda with nvidia-smi and the libraries, nvidia-kernel-dkms with the module
# source) are ">=" only, as in NVIDIA's repository (packages/driver-cuda.tsv). What the stage
# promises must hold for those packages, not only for the metapackage:
#  - --driver-version 580.95.05-1 installs the driver at 580.95.05-1 (nvidia-smi's package),
#    not the newest the repository has;
#  - the hold keeps the driver where it is: each of its packages is held (apt-mark) or pinned
#    at its installed version with priority 1000 (the stage's apt preferences file), and
#    `apt-get upgrade`, with newer 580 and 590 releases in the repository, would move none;
#  - without --driver-version, branch 580 gets a 580 driver, not the next branch's (590 drops
#    Pascal GPUs such as the GT 1030 this test uses).
# Each check is reported, and the test fails if any does.
source "$(dirname "$0")/lib.sh"
require_tool chroot jq
: "${GNS_TEST_FIXTURES:?ctest sets GNS_TEST_FIXTURES}"
root="$SCRATCH/root"
driver_debian_root "$root" "$SCRATCH/repos"
gt1030="$GNS_SHARED_FIXTURES/pci/gt1030-x2-hdmi-audio.lspci-xxx.txt"
pin=580.95.05-1

run_status() { local status=0; "$GNS_BIN" --root "$root" --pci-dump "$gt1030" "$@" > "$SCRATCH/out" 2>&1 || status=$?; echo "$status"; }
version_of() { chroot "$root" dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo absent; }
problems=()

# The pinned version reaches the driver itself.
status=$(run_status apply --stages driver --driver-version "$pin")
[ "$status" = 0 ] || fail "apply --driver-version $pin: exit $status: $(cat "$SCRATCH/out")"
[ "$(version_of cuda-drivers-580)" = "$pin" ] || fail "cuda-drivers-580 is $(version_of cuda-drivers-580), not $pin"
for name in nvidia-driver-cuda nvidia-kernel-dkms; do
  [ "$(version_of "$name")" = "$pin" ] ||
    problems+=("--driver-version $pin installed $name $(version_of "$name"): the metapackage is at the pin, the driver is not")
done
[ "$(chroot "$root" nvidia-smi)" = "nvidia-driver-cuda $pin" ] ||
  problems+=("nvidia-smi is \"$(chroot "$root" nvidia-smi)\", not from nvidia-driver-cuda $pin")

# The hold keeps the driver: its packages are held or pinned at 1000, and an upgrade (what
# unattended-upgrades does) would move none of them.
held=$(chroot "$root" apt-mark showhold | tr '\n' ' ')
for name in nvidia-driver-cuda nvidia-kernel-dkms; do
  pinned=$(chroot "$root" apt-cache policy "$name" | grep -cE "^ \*\*\* $pin 1000$" || true)
  [[ " $held" == *" $name "* ]] || [ "$pinned" = 1 ] ||
    problems+=("$name is neither held nor pinned at $pin (held: $held): an upgrade may replace the driver under running workloads")
done
upgrades=$(chroot "$root" apt-get -s -o Dpkg::Use-Pty=0 upgrade | sed -n 's/^Inst \([^ ]*\) .*/\1/p' | grep -E '^(nvidia|cuda|libnvidia)' || true)
[ -z "$upgrades" ] || problems+=("held, yet apt-get upgrade would move: ${upgrades//$'\n'/ }")
[ "$(run_status revert)" = 0 ] || fail "revert: $(cat "$SCRATCH/out")"

# Branch 580 without a version: a 580 driver.
status=$(run_status apply --stages driver --driver-branch 580)
[ "$status" = 0 ] || fail "apply --driver-branch 580: exit $status: $(cat "$SCRATCH/out")"
for name in nvidia-driver-cuda nvidia-kernel-dkms; do
  case $(version_of "$name") in
    580.*) ;;
    *) problems+=("--driver-branch 580 installed $name $(version_of "$name") (cuda-drivers-580 $(version_of cuda-drivers-580))") ;;
  esac
done
[ "$(run_status revert)" = 0 ] || fail "revert: $(cat "$SCRATCH/out")"

if [ ${#problems[@]} -gt 0 ]; then
  printf 'FAIL: %s\n' "${problems[@]}" >&2
  exit 1
fi
