# Shared helpers for integration tests (sourced, not run). Each test works in its own scratch
# directory, removed when it passes and kept when it fails so the failure can be read.
set -euo pipefail

: "${GNS_BIN:?GNS_BIN must name the gpu-node-setup binary (ctest sets it)}"
: "${GNS_SHARED_FIXTURES:?GNS_SHARED_FIXTURES must name ../shared/fixtures (ctest sets it)}"

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/gns-it-XXXXXX")
# A test that leaves something running (dnf's gpg-agent) defines before_cleanup to stop it.
trap 'status=$?; if declare -F before_cleanup > /dev/null; then before_cleanup || true; fi
  if [ $status -eq 0 ] || [ $status -eq 125 ]; then rm -rf "$SCRATCH"; else echo "scratch kept: $SCRATCH" >&2; fi' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Skips the test (ctest shows it as skipped) unless GNS_NO_SKIP=1, which CI sets: there a
# missing tool is a failure, never a silent pass.
skip() {
  if [ "${GNS_NO_SKIP:-0}" = 1 ]; then
    fail "would skip, but GNS_NO_SKIP=1: $*"
  fi
  echo "SKIP: $*" >&2
  exit 125
}

require_tool() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (scripts/install-deps.sh installs it)"
  done
}

require_dir() {
  [ -d "$1" ] || skip "fixture directory $1 is missing"
}

# install_program ROOT SOURCE TARGET: SOURCE copied to ROOT/TARGET with the shared libraries ldd
# lists, so that it runs chrooted into ROOT.
install_program() {
  local root=$1 source=$2 target=$3 lib
  mkdir -p "$root$(dirname "$target")"
  cp "$source" "$root$target"
  for lib in $(ldd "$source" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# debian_root DEST: DEST becomes a fresh Debian 12 root (debootstrap minbase, built once per
# build tree and cached in GNS_TEST_CACHE) in which real apt and dpkg run under chroot.
debian_root() {
  require_tool debootstrap tar flock
  bash "$(dirname "${BASH_SOURCE[0]}")/../support/debian_root.sh" "${GNS_TEST_CACHE:?ctest sets GNS_TEST_CACHE}" "$1"
}

# apt_repo OUT SPEC: a signed apt repository of stand-in packages (tests/support/make_apt_repo.sh).
apt_repo() {
  require_tool apt-ftparchive dpkg-deb gpg gzip
  bash "$(dirname "${BASH_SOURCE[0]}")/../support/make_apt_repo.sh" "$1" "$2" > /dev/null
}

# etc_snapshot ROOT: every path under ROOT/etc with its type and, for files, its sha256.
etc_snapshot() {
  (cd "$1/etc" && find . -printf '%y %p\n' | sort && find . -type f -exec sha256sum {} + | sort -k2)
}

# rocky_root DEST: DEST becomes a root that is Rocky Linux 9 to the tool, with Debian's real dnf
# and rpm inside (tests/support/rocky_root.sh), built once per build tree like debian_root.
rocky_root() {
  require_tool debootstrap tar flock
  bash "$(dirname "${BASH_SOURCE[0]}")/../support/rocky_root.sh" "${GNS_TEST_CACHE:?ctest sets GNS_TEST_CACHE}" "$1"
}

# rpm_repo OUT SPEC: a signed rpm repository of stand-in packages (tests/support/make_rpm_repo.sh).
rpm_repo() {
  require_tool rpmbuild rpmsign createrepo_c gpg
  bash "$(dirname "${BASH_SOURCE[0]}")/../support/make_rpm_repo.sh" "$1" "$2" > /dev/null
}

# stop_agents_in ROOT: stops the gpg-agents that dnf started chrooted into ROOT (it checks
# repository signatures with one, and leaves it running), found by their root directory.
stop_agents_in() {
  local root pid
  root=$(realpath "$1")
  for pid in $(pgrep -x gpg-agent || true); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] && kill "$pid" 2>/dev/null || true
  done
}

# node_packages_in_place ROOT: ROOT becomes a Debian 12 host whose dpkg status says NVIDIA's driver
# (cuda-drivers-580, proprietary: the shared dumps' GT 1030 is a Pascal GPU) and container
# toolkit (1.17.8-1) are installed and held, as on a node set up before: the driver and toolkit
# stages have nothing to do there and run nothing.
node_packages_in_place() {
  local root=$1 name
  mkdir -p "$root/etc" "$root/var/lib/dpkg"
  printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' > "$root/etc/os-release"
  {
    printf 'Package: cuda-drivers-580\nStatus: hold ok installed\nArchitecture: amd64\nVersion: 580.95.05-1\n\n'
    for name in nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1; do
      printf 'Package: %s\nStatus: hold ok installed\nArchitecture: amd64\nVersion: 1.17.8-1\n\n' "$name"
    done
  } > "$root/var/lib/dpkg/status"
}

# --- driver stage (tests/integration/driver_*.sh) ---

# archive_source ROOT OUT: the apt repository OUT (made by apt_repo) becomes ROOT's distribution
# archive, configured as on a real host: at ROOT/srv/archive, listed in
# /etc/apt/sources.list.d/archive.list with signed-by, and its index already fetched.
archive_source() {
  local root=$1 out=$2
  mkdir -p "$root/srv"
  cp -a "$out/repo" "$root/srv/archive"
  cp "$out/keyring.gpg" "$root/usr/share/keyrings/test-archive.gpg"
  echo 'deb [signed-by=/usr/share/keyrings/test-archive.gpg] file:/srv/archive ./' > "$root/etc/apt/sources.list.d/archive.list"
  chroot "$root" apt-get update -o Dpkg::Use-Pty=0 > /dev/null
}

# kernel_in ROOT RELEASE: ROOT's running kernel, as the tool reads it (/proc/sys/kernel/osrelease).
kernel_in() {
  mkdir -p "$1/proc/sys/kernel"
  echo "$2" > "$1/proc/sys/kernel/osrelease"
}

# secure_boot_in ROOT on|off|none: ROOT's EFI Secure Boot variable in sysfs (4 attribute bytes,
# then 1 for enforced), or no EFI at all.
secure_boot_in() {
  local var="$1/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e098032b8c4c"
  rm -rf "$1/sys/firmware"
  [ "$2" = none ] && return
  mkdir -p "$(dirname "$var")"
  if [ "$2" = on ]; then printf '\x06\x00\x00\x00\x01' > "$var"; else printf '\x06\x00\x00\x00\x00' > "$var"; fi
}

# recording_systemctl ROOT: a stand-in /usr/bin/systemctl (a minbase root has no systemd) that
# appends its arguments, one call a line, to ROOT/var/log/systemctl.calls.
recording_systemctl() {
  printf '#!/bin/sh\necho "$*" >> /var/log/systemctl.calls\n' > "$1/usr/bin/systemctl"
  chmod 755 "$1/usr/bin/systemctl"
}

# driver_debian_root ROOT OUT: ROOT becomes a Debian 12 host on kernel 6.1.0-99-amd64, no EFI,
# with recording_systemctl, whose archive (archive_source) is built from
# packages/driver-archive-debian.tsv, and whose site config file points the driver stage's
# [driver] repository and key at NVIDIA's CUDA repository made from packages/driver-cuda.tsv
# (ROOT/srv/cuda, key ROOT/srv/cuda.asc). The repositories are built under OUT.
driver_debian_root() {
  local root=$1 out=$2
  debian_root "$root"
  apt_repo "$out/archive" "$GNS_TEST_FIXTURES/packages/driver-archive-debian.tsv"
  apt_repo "$out/cuda" "$GNS_TEST_FIXTURES/packages/driver-cuda.tsv"
  archive_source "$root" "$out/archive"
  cp -a "$out/cuda/repo" "$root/srv/cuda"
  cp "$out/cuda/key.asc" "$root/srv/cuda.asc"
  kernel_in "$root" 6.1.0-99-amd64
  recording_systemctl "$root"
  mkdir -p "$root/etc/gpu-node-setup"
  printf '[driver]\nrepository = "file:/srv/cuda"\nkey = "file:///srv/cuda.asc"\n' > "$root/etc/gpu-node-setup/config.toml"
}

# rpm_module_repo OUT SPEC MODULES_YAML: rpm_repo with MODULES_YAML (modulemd documents) as the
# repository's module metadata, so that `dnf module` sees its streams (make_rpm_repo.sh).
rpm_module_repo() {
  require_tool rpmbuild rpmsign createrepo_c modifyrepo_c gpg
  bash "$(dirname "${BASH_SOURCE[0]}")/../support/make_rpm_repo.sh" "$1" "$2" "$3" > /dev/null
}
