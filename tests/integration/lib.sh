# Shared helpers for integration tests (sourced, not run). Each test works in its own scratch
# directory, removed when it passes and kept when it fails so the failure can be read.
set -euo pipefail

: "${GNS_BIN:?GNS_BIN must name the gpu-node-setup binary (ctest sets it)}"
: "${GNS_SHARED_FIXTURES:?GNS_SHARED_FIXTURES must name ../shared/fixtures (ctest sets it)}"

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/gns-it-XXXXXX")
trap 'status=$?; if [ $status -eq 0 ] || [ $status -eq 125 ]; then rm -rf "$SCRATCH"; else echo "scratch kept: $SCRATCH" >&2; fi' EXIT

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
