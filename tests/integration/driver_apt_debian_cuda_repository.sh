#!/usr/bin/env bash
# The driver stage on Debian 12 with real apt and dpkg, run by the tool under chroot in a
# throw-away root whose own archive (a signed local repository, fetched as a host has it) has
# the running kernel's headers, and whose site config file points [driver] at a stand-in for
# NVIDIA's CUDA repository holding two releases of the 580 branch.
#
# Refused before anything changes, each with its own exit code: Secure Boot on with a DKMS
# build (10), a vGPU guest (9), a kernel whose headers no repository has (11), proprietary
# modules asked for a Blackwell GPU (2; its plan has nvidia-open-580 instead). A Pascal GPU
# (proprietary modules) gets cuda-drivers-580 at the pinned --driver-version (the older of two),
# held, with the kernel's headers, not held; a second apply with apt and dpkg taken out of the
# root has nothing to do; revert leaves dpkg's package list and /etc as they were. Secure Boot
# with --allow-unsigned-modules installs. An HGX board (Hopper, NVSwitches) gets nvidia-open-580
# and Fabric Manager at the same pin, its service enabled, and disabled again by revert. An
# NVIDIA driver already loaded: installed, then exit 7 with /run/reboot-required written.
source "$(dirname "$0")/lib.sh"
require_tool chroot jq sha256sum
: "${GNS_TEST_FIXTURES:?ctest sets GNS_TEST_FIXTURES}"
root="$SCRATCH/root"
driver_debian_root "$root" "$SCRATCH/repos"
gt1030="$GNS_SHARED_FIXTURES/pci/gt1030-x2-hdmi-audio.lspci-xxx.txt"
hgx="$GNS_TEST_FIXTURES/pci/hgx-h100-2gpu-2nvswitch-derived-from-h100-sxm5-config96.lspci-x.txt"
vgpu="$GNS_TEST_FIXTURES/pci/vgpu-guest-derived-from-quadro-p1000-hp-vfio-host.lspci-xxx.txt"
blackwell="$GNS_SHARED_FIXTURES/pci/rtx5080-blackwell-arrowlake-igpu.lspci-xxxx.txt"
pin=580.95.05-1

gns() { "$GNS_BIN" --root "$root" "$@"; }
# run_status DUMP ARGS...: the tool's exit status; its output in $SCRATCH/out.
run_status() { local status=0 dump=$1; shift; gns --pci-dump "$dump" "$@" > "$SCRATCH/out" 2>&1 || status=$?; echo "$status"; }
out() { cat "$SCRATCH/out"; }
packages() { chroot "$root" dpkg-query -W -f '${Package} ${Version} ${Status}\n' | sort; }
# The one line of `packages` for NAME, or "NAME absent".
package() { packages | grep "^$1 " || echo "$1 absent"; }
journal="$root/var/lib/gpu-node-setup/journal.json"
driver_journaled() { [ -f "$journal" ] && [ "$(jq -c '.stages.driver // empty' "$journal")" != "" ]; }
packages_before=$(packages)
etc_before=$(etc_snapshot "$root")
keyrings_before=$(ls "$root/usr/share/keyrings")

# unchanged WHAT: the root is as it was before the test: packages, /etc, keyrings, journal.
unchanged() {
  [ "$(packages)" = "$packages_before" ] || fail "$1 changed the packages: $(diff <(echo "$packages_before") <(packages))"
  [ "$(etc_snapshot "$root")" = "$etc_before" ] || fail "$1 changed /etc: $(diff <(echo "$etc_before") <(etc_snapshot "$root"))"
  [ "$(ls "$root/usr/share/keyrings")" = "$keyrings_before" ] || fail "$1 left a keyring: $(ls "$root/usr/share/keyrings")"
  ! driver_journaled || fail "$1 left the driver stage in the journal: $(cat "$journal")"
}

# --- Preflights: each refused with its exit code and a message, the root untouched ---

# Secure Boot on, and the CUDA repository's driver is built by DKMS, unsigned.
secure_boot_in "$root" on
status=$(run_status "$gt1030" apply --stages driver --driver-version "$pin")
[ "$status" = 10 ] || fail "Secure Boot: exit $status, not 10: $(out)"
grep -q 'Secure Boot is on, and cuda-drivers-580 builds the NVIDIA kernel modules on this host (DKMS), unsigned' "$SCRATCH/out" \
  || fail "Secure Boot: unclear message: $(out)"
grep -q -- '--allow-unsigned-modules' "$SCRATCH/out" || fail "Secure Boot: the message does not name the way out: $(out)"
unchanged "a refusal for Secure Boot"
secure_boot_in "$root" none

# A vGPU guest: NVIDIA's datacenter driver does not run there.
status=$(run_status "$vgpu" apply --stages driver)
[ "$status" = 9 ] || fail "vGPU guest: exit $status, not 9: $(out)"
grep -q 'GPU 0000:05:00.0 is a vGPU guest device (the host runs driver branch r550_00)' "$SCRATCH/out" \
  || fail "vGPU guest: unclear message: $(out)"
grep -q -- '--driver-run FILE' "$SCRATCH/out" || fail "vGPU guest: the message does not name --driver-run: $(out)"
unchanged "a refusal for a vGPU guest"

# A kernel whose headers no repository has (the archive has 6.1.0-99-amd64's, not these).
kernel_in "$root" 6.1.0-98-amd64
status=$(run_status "$gt1030" apply --stages driver --driver-version "$pin")
[ "$status" = 11 ] || fail "missing headers: exit $status, not 11: $(out)"
grep -q 'linux-headers-6.1.0-98-amd64 (the headers of the running kernel 6.1.0-98-amd64, which DKMS builds the driver against) is in no repository' "$SCRATCH/out" \
  || fail "missing headers: unclear message: $(out)"
unchanged "a refusal for missing headers"
kernel_in "$root" 6.1.0-99-amd64

# Blackwell runs only the open modules: asking for the proprietary ones is a usage error (2),
# and the plan installs nvidia-open-580.
status=$(run_status "$blackwell" apply --stages driver --driver-modules proprietary)
[ "$status" = 2 ] || fail "Blackwell with --driver-modules proprietary: exit $status, not 2: $(out)"
grep -q -- '--driver-modules proprietary: Blackwell GPUs run only the open kernel modules' "$SCRATCH/out" \
  || fail "Blackwell with --driver-modules proprietary: unclear message: $(out)"
unchanged "a refused --driver-modules proprietary"
status=$(run_status "$blackwell" plan --stages driver --driver-version "$pin")
[ "$status" = 0 ] || fail "Blackwell plan: exit $status: $(out)"
grep -q "^would run: apt-get install .* linux-headers-6.1.0-99-amd64  (before the driver: " "$SCRATCH/out" &&
  grep -q "^would run: apt-get install .* nvidia-open-580=$pin  (the driver, every package at $pin)\$" "$SCRATCH/out" \
  || fail "Blackwell plan does not install nvidia-open-580: $(out)"
grep -q '^note: open kernel modules: Blackwell GPUs run only those$' "$SCRATCH/out" || fail "Blackwell plan does not say why open modules: $(out)"
unchanged "plan"

# --- Pascal (GT 1030): proprietary modules, from the CUDA repository, at the pin ---

status=$(run_status "$gt1030" plan --stages driver --driver-version "$pin")
[ "$status" = 0 ] || fail "plan: exit $status: $(out)"
grep -q "^would run: apt-get install .* linux-headers-6.1.0-99-amd64  (before the driver: " "$SCRATCH/out" &&
  grep -q "^would run: apt-get install .* cuda-drivers-580=$pin  (the driver, every package at $pin)\$" "$SCRATCH/out" \
  || fail "plan does not install the pinned driver with the headers: $(out)"
unchanged "plan"

status=$(run_status "$gt1030" apply --stages driver --driver-version "$pin")
[ "$status" = 0 ] || fail "apply: exit $status: $(out)"
[ "$(package cuda-drivers-580)" = "cuda-drivers-580 $pin hold ok installed" ] \
  || fail "cuda-drivers-580 is not the pinned, older release, held: $(package cuda-drivers-580)"
[ "$(package linux-headers-6.1.0-99-amd64)" = "linux-headers-6.1.0-99-amd64 6.1.0-99 install ok installed" ] \
  || fail "the kernel's headers are not installed, unheld: $(package linux-headers-6.1.0-99-amd64)"
[ "$(package nvidia-open-580)" = "nvidia-open-580 absent" ] || fail "open modules for a Pascal GPU: $(package nvidia-open-580)"
[ -f "$root/lib/modules/6.1.0-99-amd64/build/Makefile" ] || fail "the headers package's files are not there"
source_file=$(grep -l 'file:/srv/cuda' "$root"/etc/apt/sources.list.d/*) || fail "no apt source for the CUDA repository"
keyring=$(sed -n 's/^deb \[signed-by=\([^]]*\)\] file:\/srv\/cuda \/$/\1/p' "$source_file")
[ -n "$keyring" ] || fail "the CUDA source is not signed-by a keyring: $(cat "$source_file")"
cmp -s "$root/srv/cuda.asc" "$root$keyring" || fail "$keyring is not the configured key"
grep -q '^note: proprietary kernel modules: Pascal GPUs (older than Turing) cannot run the open ones$' "$SCRATCH/out" \
  || fail "apply does not say why proprietary modules: $(out)"
[ ! -e "$root/run/reboot-required" ] || fail "nothing is loaded, yet a reboot was asked for"

# status: applied. A second apply with apt, dpkg and their queries gone from the root: nothing.
status=$(run_status "$gt1030" status --stages driver --driver-version "$pin")
[ "$status" = 0 ] || fail "status: exit $status: $(out)"
grep -q "^driver  *applied  *cuda-drivers-580 $pin is installed and held" "$SCRATCH/out" || fail "status: $(out)"
mkdir "$SCRATCH/hidden"
for tool in apt-get apt-mark apt-cache dpkg dpkg-query apt; do mv "$root/usr/bin/$tool" "$SCRATCH/hidden/"; done
status=$(run_status "$gt1030" -v apply --stages driver --driver-version "$pin")
mv "$SCRATCH/hidden/"* "$root/usr/bin/"
[ "$status" = 0 ] || fail "second apply: exit $status: $(out)"
grep -qx 'driver: nothing to do' "$SCRATCH/out" || fail "second apply did something: $(out)"
! grep -q 'running:' "$SCRATCH/out" || fail "second apply ran a command: $(out)"

# revert: the packages apply added (dependencies too) purged, /etc and the keyrings as before.
status=$(run_status "$gt1030" revert)
[ "$status" = 0 ] || fail "revert: exit $status: $(out)"
unchanged "apply and revert"
[ ! -e "$root/lib/modules/6.1.0-99-amd64/build/Makefile" ] || fail "revert left the headers' files"

# --- Secure Boot on, with --allow-unsigned-modules (the operator enrols a MOK): installed ---

secure_boot_in "$root" on
status=$(run_status "$gt1030" apply --stages driver --driver-version "$pin" --allow-unsigned-modules)
[ "$status" = 0 ] || fail "apply with --allow-unsigned-modules: exit $status: $(out)"
[ "$(package cuda-drivers-580)" = "cuda-drivers-580 $pin hold ok installed" ] \
  || fail "--allow-unsigned-modules: $(package cuda-drivers-580)"
status=$(run_status "$gt1030" revert)
[ "$status" = 0 ] || fail "revert: exit $status: $(out)"
unchanged "apply with --allow-unsigned-modules and revert"
secure_boot_in "$root" none

# --- HGX H100 (Hopper, 2 NVSwitches): open modules and Fabric Manager at the same pin ---

status=$(run_status "$hgx" apply --stages driver --driver-version "$pin")
[ "$status" = 0 ] || fail "HGX apply: exit $status: $(out)"
[ "$(package nvidia-open-580)" = "nvidia-open-580 $pin hold ok installed" ] || fail "HGX: $(package nvidia-open-580)"
[ "$(package nvidia-fabricmanager-580)" = "nvidia-fabricmanager-580 $pin hold ok installed" ] \
  || fail "HGX: Fabric Manager is not at the driver's pinned version, held: $(package nvidia-fabricmanager-580)"
[ "$(package cuda-drivers-580)" = "cuda-drivers-580 absent" ] || fail "HGX: proprietary driver installed: $(package cuda-drivers-580)"
[ "$(cat "$root/var/log/systemctl.calls")" = "enable nvidia-fabricmanager" ] \
  || fail "HGX: Fabric Manager's service was not enabled (once): $(cat "$root/var/log/systemctl.calls" 2>&1)"
grep -q '^note: 2 NVSwitch(es): nvidia-fabricmanager-580 at 580.95.05-1, its service enabled$' "$SCRATCH/out" \
  || fail "HGX: apply does not say why Fabric Manager: $(out)"
status=$(run_status "$hgx" status --stages driver --driver-version "$pin")
grep -q "^driver  *applied  *nvidia-open-580 $pin is installed and held, with 1 more driver package(s)" "$SCRATCH/out" \
  || fail "HGX status: $(out)"
status=$(run_status "$hgx" revert)
[ "$status" = 0 ] || fail "HGX revert: exit $status: $(out)"
[ "$(cat "$root/var/log/systemctl.calls")" = "enable nvidia-fabricmanager
disable nvidia-fabricmanager" ] || fail "HGX revert did not disable Fabric Manager's service: $(cat "$root/var/log/systemctl.calls")"
rm "$root/var/log/systemctl.calls"
unchanged "HGX apply and revert"

# --- An NVIDIA driver loaded already: installed, then a reboot is required (exit 7) ---

mkdir -p "$root/sys/module/nvidia"
echo 550.54.15 > "$root/sys/module/nvidia/version"
status=$(run_status "$gt1030" apply --stages driver --driver-version "$pin")
[ "$status" = 7 ] || fail "with a driver loaded: exit $status, not 7: $(out)"
[ "$(package cuda-drivers-580)" = "cuda-drivers-580 $pin hold ok installed" ] \
  || fail "with a driver loaded, nothing was installed: $(package cuda-drivers-580)"
[ "$(cat "$root/run/reboot-required" 2>&1)" = '*** System restart required ***' ] \
  || fail "/run/reboot-required: $(cat "$root/run/reboot-required" 2>&1)"
grep -qx 'gpu-node-setup' "$root/run/reboot-required.pkgs" || fail "/run/reboot-required.pkgs does not name gpu-node-setup"
status=$(run_status "$gt1030" status --stages driver --driver-version "$pin")
grep -q '^reboot required (since .*): driver: NVIDIA driver 550.54.15 is loaded; the one installed now replaces it at the next boot$' "$SCRATCH/out" \
  || fail "status does not say a reboot is pending: $(out)"
status=$(run_status "$gt1030" revert)
[ "$status" = 0 ] || fail "revert after the reboot request: exit $status: $(out)"
unchanged "apply with a driver loaded, and revert"
[ "$(jq -c '.pending_reboot // null' "$journal")" = null ] || fail "revert left the reboot pending: $(cat "$journal")"
