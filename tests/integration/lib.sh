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
