#!/usr/bin/env bash
# The driver stage on a root that is Ubuntu 22.04 to the tool (a Debian 12 root with Ubuntu's
# os-release: real apt and dpkg under chroot), kernel 5.15.0-99-generic, Secure Boot on, whose
# archive (a signed local repository, fetched as a host has it) has Canonical's server driver
# series and its precompiled, signed modules for that kernel.
#
# An HGX board (Hopper, NVSwitches) gets nvidia-driver-580-server-open with the precompiled
# modules instead of a DKMS build (so neither headers nor a Secure Boot refusal), and Fabric
# Manager with its service enabled; revert leaves dpkg's package list and /etc as they were. On a
# kernel with no precompiled modules the same apply is refused for Secure Boot (exit 10).
# --driver-run: a stand-in for NVIDIA's .run installer is run once, non-interactively, with DKMS
# and the open modules (Hopper), after the kernel's headers are installed; a second apply has
# nothing to do; revert runs its nvidia-uninstall and purges the headers. A file that is not
# NVIDIA's installer is a usage error (exit 2) and runs nothing; a vGPU guest may use --driver-run
# (the GRID guest driver), with the proprietary modules its Pascal GPU needs.
source "$(dirname "$0")/lib.sh"
require_tool chroot jq sha256sum
: "${GNS_TEST_FIXTURES:?ctest sets GNS_TEST_FIXTURES}"
root="$SCRATCH/root"
debian_root "$root"
rm "$root/etc/os-release"
cat > "$root/etc/os-release" <<'EOF'
PRETTY_NAME="Ubuntu 22.04.5 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.5 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
EOF
apt_repo "$SCRATCH/archive" "$GNS_TEST_FIXTURES/packages/driver-archive-ubuntu.tsv"
archive_source "$root" "$SCRATCH/archive"
kernel_in "$root" 5.15.0-99-generic
secure_boot_in "$root" on
recording_systemctl "$root"
hgx="$GNS_TEST_FIXTURES/pci/hgx-h100-2gpu-2nvswitch-derived-from-h100-sxm5-config96.lspci-x.txt"
vgpu="$GNS_TEST_FIXTURES/pci/vgpu-guest-derived-from-quadro-p1000-hp-vfio-host.lspci-xxx.txt"

gns() { "$GNS_BIN" --root "$root" "$@"; }
# run_status DUMP ARGS...: the tool's exit status; its output in $SCRATCH/out.
run_status() { local status=0 dump=$1; shift; gns --pci-dump "$dump" "$@" > "$SCRATCH/out" 2>&1 || status=$?; echo "$status"; }
out() { cat "$SCRATCH/out"; }
packages() { chroot "$root" dpkg-query -W -f '${Package} ${Version} ${Status}\n' | sort; }
package() { packages | grep "^$1 " || echo "$1 absent"; }
journal="$root/var/lib/gpu-node-setup/journal.json"
packages_before=$(packages)
etc_before=$(etc_snapshot "$root")

# unchanged WHAT: dpkg's packages and /etc as before the test, the driver stage not journaled.
unchanged() {
  [ "$(packages)" = "$packages_before" ] || fail "$1 changed the packages: $(diff <(echo "$packages_before") <(packages))"
  [ "$(etc_snapshot "$root")" = "$etc_before" ] || fail "$1 changed /etc: $(diff <(echo "$etc_before") <(etc_snapshot "$root"))"
  [ ! -f "$journal" ] || [ "$(jq -c '.stages.driver // empty' "$journal")" = "" ] || fail "$1 left the driver journaled: $(cat "$journal")"
}

# --- A kernel without precompiled modules, Secure Boot on: a DKMS build, refused (10) ---

kernel_in "$root" 5.15.0-98-generic
status=$(run_status "$hgx" apply --stages driver)
[ "$status" = 10 ] || fail "Secure Boot, no precompiled modules: exit $status, not 10: $(out)"
grep -q 'Secure Boot is on, and nvidia-driver-580-server-open builds the NVIDIA kernel modules on this host (DKMS), unsigned' "$SCRATCH/out" \
  || fail "unclear Secure Boot message: $(out)"
unchanged "a refusal for Secure Boot"
kernel_in "$root" 5.15.0-99-generic

# --- HGX: Canonical's server series with its signed precompiled modules, Fabric Manager ---

status=$(run_status "$hgx" apply --stages driver)
[ "$status" = 0 ] || fail "apply: exit $status: $(out)"
[ "$(package nvidia-driver-580-server-open)" = "nvidia-driver-580-server-open 580.95.05-0ubuntu0.22.04.2 hold ok installed" ] \
  || fail "the server driver is not installed and held: $(package nvidia-driver-580-server-open)"
[ "$(package linux-modules-nvidia-580-server-open-5.15.0-99-generic)" = "linux-modules-nvidia-580-server-open-5.15.0-99-generic 5.15.0-99.109 install ok installed" ] \
  || fail "the precompiled modules are not installed, unheld: $(package linux-modules-nvidia-580-server-open-5.15.0-99-generic)"
[ "$(package nvidia-fabricmanager-580)" = "nvidia-fabricmanager-580 580.95.05-0ubuntu0.22.04.1 hold ok installed" ] \
  || fail "Fabric Manager is not installed and held: $(package nvidia-fabricmanager-580)"
[ "$(package linux-headers-5.15.0-99-generic)" = "linux-headers-5.15.0-99-generic absent" ] \
  || fail "headers installed, though no DKMS build is needed: $(package linux-headers-5.15.0-99-generic)"
grep -q '^note: linux-modules-nvidia-580-server-open-5.15.0-99-generic: Canonical'"'"'s signed modules for this kernel, no DKMS build$' "$SCRATCH/out" \
  || fail "apply does not say the modules are Canonical's signed ones: $(out)"
grep -q "^note: Canonical's nvidia-driver-580-server-open (the server series" "$SCRATCH/out" || fail "apply does not say which series: $(out)"
[ "$(ls "$root/etc/apt/sources.list.d/")" = archive.list ] || fail "a repository was added on Ubuntu: $(ls "$root/etc/apt/sources.list.d/")"
[ "$(cat "$root/var/log/systemctl.calls")" = "enable nvidia-fabricmanager" ] \
  || fail "Fabric Manager's service was not enabled (once): $(cat "$root/var/log/systemctl.calls" 2>&1)"
status=$(run_status "$hgx" status --stages driver)
grep -q '^driver  *applied  *nvidia-driver-580-server-open 580.95.05-0ubuntu0.22.04.2 is installed and held, with 1 more driver package(s)' "$SCRATCH/out" \
  || fail "status: $(out)"
status=$(run_status "$hgx" revert)
[ "$status" = 0 ] || fail "revert: exit $status: $(out)"
[ "$(tail -1 "$root/var/log/systemctl.calls")" = "disable nvidia-fabricmanager" ] || fail "revert did not disable Fabric Manager's service"
rm "$root/var/log/systemctl.calls"
unchanged "apply and revert"
[ ! -e "$root/lib/modules/5.15.0-99-generic/kernel/nvidia-580-server-open/nvidia.ko" ] || fail "revert left the precompiled modules' files"

# --- --driver-run: NVIDIA's .run installer (a stand-in) ---

run_file=/root/NVIDIA-Linux-x86_64-580.95.05.run
mkdir -p "$root/root"
cat > "$root$run_file" <<'EOF'
#!/bin/sh
# This script was generated using Makeself 2.4.5
# (a stand-in for NVIDIA's installer, written by gpu-node-setup's tests)
label="NVIDIA Accelerated Graphics Driver for Linux-x86_64 580.95.05"
echo "installer $*" >> /var/log/fake-installer.log
case " $* " in *" --silent "*) ;; *) echo "the stand-in installer wants --silent" >&2; exit 1 ;; esac
case " $* " in *" --dkms "*) ;; *) echo "the stand-in installer wants --dkms" >&2; exit 1 ;; esac
mkdir -p /usr/lib/x86_64-linux-gnu
echo "libnvidia-ml 580.95.05" > /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05
cat > /usr/bin/nvidia-uninstall <<'UNINSTALL'
#!/bin/sh
echo "nvidia-uninstall $*" >> /var/log/fake-installer.log
rm -f /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05 /usr/bin/nvidia-uninstall
UNINSTALL
chmod 755 /usr/bin/nvidia-uninstall
EOF
chmod 755 "$root$run_file"
log="$root/var/log/fake-installer.log"
library="$root/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05"

# Secure Boot on: the installer's DKMS build is unsigned, refused (10), nothing run.
status=$(run_status "$hgx" apply --stages driver --driver-run "$run_file")
[ "$status" = 10 ] || fail "--driver-run under Secure Boot: exit $status, not 10: $(out)"
grep -q "Secure Boot is on, and NVIDIA's installer builds the NVIDIA kernel modules" "$SCRATCH/out" || fail "unclear message: $(out)"
[ ! -e "$log" ] || fail "the installer ran under Secure Boot: $(cat "$log")"
unchanged "a refused --driver-run"
secure_boot_in "$root" off

# A file that is not NVIDIA's installer: a usage error, and it is not run.
printf '#!/bin/sh\ntouch /tmp/not-nvidia-ran\n' > "$root/root/not-nvidia.run"
status=$(run_status "$hgx" apply --stages driver --driver-run /root/not-nvidia.run)
[ "$status" = 2 ] || fail "a non-NVIDIA --driver-run file: exit $status, not 2: $(out)"
grep -q "^gpu-node-setup: error: --driver-run /root/not-nvidia.run is not NVIDIA's driver installer: it is not a Makeself archive labelled \"NVIDIA Accelerated Graphics Driver\"" "$SCRATCH/out" \
  || fail "unclear message for a non-NVIDIA file: $(out)"
[ ! -e "$root/tmp/not-nvidia-ran" ] || fail "the non-NVIDIA file was run"
unchanged "a non-NVIDIA --driver-run file"

# Hopper: the open modules; the kernel's headers first (DKMS builds against them).
status=$(run_status "$hgx" apply --stages driver --driver-run "$run_file")
[ "$status" = 0 ] || fail "--driver-run: exit $status: $(out)"
[ "$(cat "$log")" = "installer --silent --dkms -m=kernel-open" ] || fail "the installer was not run once as expected: $(cat "$log" 2>&1)"
[ -f "$library" ] && [ -x "$root/usr/bin/nvidia-uninstall" ] || fail "the installer's files are not there"
[ "$(package linux-headers-5.15.0-99-generic)" = "linux-headers-5.15.0-99-generic 5.15.0-99.109 install ok installed" ] \
  || fail "the kernel's headers were not installed for DKMS: $(package linux-headers-5.15.0-99-generic)"
status=$(run_status "$hgx" status --stages driver --driver-run "$run_file")
grep -q "^driver  *applied  *NVIDIA driver 580.95.05 (from $run_file) is installed" "$SCRATCH/out" || fail "status: $(out)"
status=$(run_status "$hgx" -v apply --stages driver --driver-run "$run_file")
[ "$status" = 0 ] || fail "second --driver-run apply: exit $status: $(out)"
grep -qx 'driver: nothing to do' "$SCRATCH/out" || fail "second --driver-run apply did something: $(out)"
! grep -q 'running:' "$SCRATCH/out" || fail "second --driver-run apply ran a command: $(out)"
[ "$(wc -l < "$log")" = 1 ] || fail "the installer ran again: $(cat "$log")"
status=$(run_status "$hgx" revert)
[ "$status" = 0 ] || fail "revert of --driver-run: exit $status: $(out)"
[ "$(tail -1 "$log")" = "nvidia-uninstall --silent" ] || fail "revert did not run nvidia-uninstall --silent: $(cat "$log")"
[ ! -e "$library" ] && [ ! -e "$root/usr/bin/nvidia-uninstall" ] || fail "revert left the installer's files"
unchanged "--driver-run and revert"
rm "$log"

# A vGPU guest may use --driver-run (the GRID guest driver); its Pascal GPU: proprietary modules.
status=$(run_status "$vgpu" apply --stages driver --driver-run "$run_file")
[ "$status" = 0 ] || fail "--driver-run on a vGPU guest: exit $status: $(out)"
[ "$(cat "$log")" = "installer --silent --dkms -m=kernel" ] || fail "vGPU guest: the installer was not run once with -m=kernel: $(cat "$log" 2>&1)"
status=$(run_status "$vgpu" revert)
[ "$status" = 0 ] || fail "revert on the vGPU guest: exit $status: $(out)"
unchanged "--driver-run on a vGPU guest, and revert"
