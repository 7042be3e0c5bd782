#!/usr/bin/env bash
# Every real dump in ../shared/fixtures/pci: `detect --json --pci-dump` reports exactly the
# NVIDIA GPU functions that Debian's real lspci shows (address, vendor/device, subsystem,
# class, revision), no more and no fewer; every other NVIDIA function is reported as a
# non-GPU; functions that read all ones are skipped; the exit status says whether a GPU was
# found (0) or not (3). NEG-* dumps have no GPU.
source "$(dirname "$0")/lib.sh"
require_tool lspci jq
dumps_dir="$GNS_SHARED_FIXTURES/pci"
require_dir "$dumps_dir"

# lspci -vmm records -> one TSV line per function: address vendor device svendor sdevice class rev
lspci_functions() {
  lspci -F "$1" -nDvmm | awk -F'\t' '
    function flush() { if (slot != "") print slot, vendor, device, svendor, sdevice, class, rev }
    /^Slot:/    { flush(); slot=$2; vendor=device=class=""; svendor=sdevice="0000"; rev="00" }
    /^Class:/   { class=$2 } /^Vendor:/ { vendor=$2 } /^Device:/ { device=$2 }
    /^SVendor:/ { svendor=$2 } /^SDevice:/ { sdevice=$2 } /^Rev:/ { rev=$2 }
    END { flush() }' OFS='\t' | sort
}

checked=0 with_gpus=0
for dump in "$dumps_dir"/*.txt; do
  name=$(basename "$dump")
  lspci_functions "$dump" > "$SCRATCH/lspci.tsv"
  awk -F'\t' '$2 == "10de" && ($6 == "0300" || $6 == "0302" || $6 == "0380")' "$SCRATCH/lspci.tsv" > "$SCRATCH/expected-gpus.tsv"
  awk -F'\t' '$2 == "10de" && !($6 == "0300" || $6 == "0302" || $6 == "0380")' "$SCRATCH/lspci.tsv" | cut -f1 > "$SCRATCH/expected-others.txt"
  awk -F'\t' '$2 == "ffff"' "$SCRATCH/lspci.tsv" | cut -f1 > "$SCRATCH/expected-skipped.txt"

  status=0
  "$GNS_BIN" detect --json --pci-dump "$dump" > "$SCRATCH/detect.json" 2> "$SCRATCH/detect.err" || status=$?
  jq -r '.gpus[] | [.pci_address, .vendor_id, .device_id, .subsystem_vendor_id,
                    .subsystem_device_id, .class_id, .revision] | @tsv' "$SCRATCH/detect.json" \
    | sort > "$SCRATCH/actual-gpus.tsv"
  jq -r '(.nvswitches + .other_nvidia_functions)[] | .pci_address' "$SCRATCH/detect.json" | sort > "$SCRATCH/actual-others.txt"
  jq -r '.skipped[].pci_address' "$SCRATCH/detect.json" | sort > "$SCRATCH/actual-skipped.txt"

  diff -u "$SCRATCH/expected-gpus.tsv" "$SCRATCH/actual-gpus.tsv" || fail "$name: GPUs differ from lspci (-lspci +detect)"
  diff -u "$SCRATCH/expected-others.txt" "$SCRATCH/actual-others.txt" || fail "$name: non-GPU NVIDIA functions differ from lspci"
  diff -u "$SCRATCH/expected-skipped.txt" "$SCRATCH/actual-skipped.txt" || fail "$name: skipped functions differ from lspci's ffff functions"

  gpu_count=$(wc -l < "$SCRATCH/expected-gpus.tsv")
  if [ "$gpu_count" -gt 0 ]; then
    [ "$status" -eq 0 ] || fail "$name: $gpu_count GPUs but exit status $status (want 0)"
    with_gpus=$((with_gpus + 1))
  else
    [ "$status" -eq 3 ] || fail "$name: no GPU but exit status $status (want 3)"
  fi
  case "$name" in
    NEG-*) [ "$gpu_count" -eq 0 ] || fail "$name: a NEG- dump must have no GPU, lspci shows $gpu_count" ;;
  esac
  [ "$(jq .gpu_count "$SCRATCH/detect.json")" -eq "$gpu_count" ] || fail "$name: gpu_count disagrees"
  checked=$((checked + 1))
done

[ "$checked" -ge 48 ] || fail "expected at least 48 shared dumps, found $checked"
echo "detect agrees with lspci on $checked dumps ($with_gpus with NVIDIA GPUs)"
