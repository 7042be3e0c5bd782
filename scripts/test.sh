#!/usr/bin/env bash
# Runs the whole test suite, as CI does: installs what the tests need (as root), builds with
# warnings as errors, runs every unit and integration test through ctest, then builds the
# unit tests again with AddressSanitizer + UndefinedBehaviorSanitizer and runs them.
# Fails on any failure, and on any skip: GNS_NO_SKIP=1 (the default here) turns a test's
# "cannot run here" into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export GNS_NO_SKIP="${GNS_NO_SKIP:-1}"
jobs=$(nproc)

if [ "$(id -u)" -eq 0 ]; then
  scripts/install-deps.sh
else
  echo "test.sh: not root, so not installing packages (scripts/install-deps.sh needs root)" >&2
fi

# Runs ctest in build dir $1 with extra ctest arguments; fails if any test was skipped.
run_ctest() {
  local dir=$1 log
  shift
  log=$(mktemp)
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$jobs" "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  if [ "$GNS_NO_SKIP" = 1 ] && grep -q "(Skipped)" "$log"; then
    echo "test.sh: tests were skipped and GNS_NO_SKIP=1" >&2
    status=1
  fi
  rm -f "$log"
  return "$status"
}

# GNS_FAULT_INJECTION lets the crash-safety test stop the binary at each of its writes.
cmake -S . -B build -DGNS_WERROR=ON -DBUILD_TESTING=ON -DGNS_FAULT_INJECTION=ON
cmake --build build -j"$jobs"
run_ctest build

cmake -S . -B build-sanitize -DGNS_WERROR=ON -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=Debug \
  -DGNS_SANITIZE="address;undefined"
cmake --build build-sanitize -j"$jobs" --target unit_tests
run_ctest build-sanitize -L unit
