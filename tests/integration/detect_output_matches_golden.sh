#!/usr/bin/env bash
# `detect` output, JSON and human, for real dumps against a fixed host root, compared with the
# reviewed files in tests/golden/detect/. GNS_TEST_ACCEPT=1 rewrites them from the current
# output, so a change in what detect prints shows up as a diff in review.
source "$(dirname "$0")/lib.sh"
: "${GNS_GOLDEN_DIR:?}" "${GNS_TEST_FIXTURES:?}"
require_dir "$GNS_SHARED_FIXTURES/pci"
root="$GNS_TEST_FIXTURES/roots/gpu-node"
golden="$GNS_GOLDEN_DIR/detect"
mkdir -p "$golden"

dumps=(
  rtx4090-x2-gt1030-aspeed.lspci-xxx.txt          # Ada + Pascal, a BMC VGA that is not NVIDIA
  rtx5080-blackwell-arrowlake-igpu.lspci-xxxx.txt # an ID newer than pci.ids: Blackwell by range
  quadro-rtx5000-x8-usb-ucsi.lspci-xxx.txt        # 32 NVIDIA functions, 8 of them GPUs
  geforce840m-powered-off-rev-ff.lspci-xxx.txt    # all ones: skipped, exit 3
  NEG-intel-skylake-igpu.lspci-xxxx.txt           # no NVIDIA at all
)

# Paths in the output must not depend on where the checkout lives: run from the dump's folder.
cd "$GNS_SHARED_FIXTURES/pci"
mismatches=0
for dump in "${dumps[@]}"; do
  for format in json txt; do
    flags=(); [ "$format" = json ] && flags=(--json)
    status=0
    "$GNS_BIN" --root "$root" detect "${flags[@]}" --pci-dump "$dump" > "$SCRATCH/out" || status=$?
    # Only a found (0) or no-GPU (3) answer is output worth comparing, or accepting.
    [ "$status" -eq 0 ] || [ "$status" -eq 3 ] || fail "$dump: detect exited $status"
    echo "exit status: $status" >> "$SCRATCH/out"
    expected="$golden/${dump%.txt}.$format"
    if [ "${GNS_TEST_ACCEPT:-0}" = 1 ]; then
      cp "$SCRATCH/out" "$expected"
    elif ! diff -u "$expected" "$SCRATCH/out"; then
      echo "golden mismatch: $expected (GNS_TEST_ACCEPT=1 to accept)" >&2
      mismatches=$((mismatches + 1))
    fi
  done
done
[ "$mismatches" -eq 0 ] || fail "$mismatches outputs differ from tests/golden/detect"
echo "detect output matches ${#dumps[@]} golden dumps in both formats"
