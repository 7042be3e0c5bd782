#!/usr/bin/env bash
# Every real sysfs tree in ../shared/fixtures/pci/sysfs (hwloc's captures of real machines,
# none with an NVIDIA function): `detect --root TREE --json` reads PCI through libpci's
# linux-sysfs method without error or warning and finds what Debian's real lspci finds in the
# same tree: the same NVIDIA GPUs (none), the same other NVIDIA functions (none), exit status 3.
# lspci must see at least one function, one per devices/ entry, so an empty or unread tree
# cannot pass; detect must name the tree it read in pci_source.
source "$(dirname "$0")/lib.sh"
require_tool lspci jq tar bzip2
tarballs_dir="$GNS_SHARED_FIXTURES/pci/sysfs"
require_dir "$tarballs_dir"

checked=0
for tarball in "$tarballs_dir"/*.tar.bz2; do
  name=$(basename "$tarball" .tar.bz2)
  dest="$SCRATCH/$name"
  mkdir -p "$dest"
  tar -xjf "$tarball" -C "$dest" || fail "$name: cannot extract $tarball"
  # hwloc's tarballs have one top folder (not always named like the tarball).
  bus_pci=$(find "$dest" -maxdepth 5 -type d -path '*/sys/bus/pci' | head -n 1)
  [ -n "$bus_pci" ] || fail "$name: no sys/bus/pci in the tarball"
  root=${bus_pci%/sys/bus/pci}

  lspci -A linux-sysfs -O sysfs.path="$bus_pci" -nDvmm > "$SCRATCH/lspci.vmm" 2> "$SCRATCH/lspci.err" \
    || fail "$name: lspci cannot read the tree: $(cat "$SCRATCH/lspci.err")"
  awk -F'\t' '
    /^Slot:/ { slot = $2 } /^Class:/ { class = $2 } /^Vendor:/ { vendor = $2 }
    /^$/ { if (slot != "") print slot, vendor, class; slot = "" }
    END { if (slot != "") print slot, vendor, class }' OFS='\t' "$SCRATCH/lspci.vmm" \
    | sort > "$SCRATCH/lspci.tsv"
  functions=$(wc -l < "$SCRATCH/lspci.tsv")
  entries=$(find "$bus_pci/devices/" -mindepth 1 -maxdepth 1 | wc -l)
  [ "$functions" -gt 0 ] || fail "$name: lspci read no function from $bus_pci"
  [ "$functions" -eq "$entries" ] || fail "$name: lspci shows $functions functions, devices/ has $entries"
  awk -F'\t' '$2 == "10de" && ($3 == "0300" || $3 == "0302" || $3 == "0380") { print $1 }' \
    "$SCRATCH/lspci.tsv" > "$SCRATCH/expected-gpus.txt"
  awk -F'\t' '$2 == "10de" && !($3 == "0300" || $3 == "0302" || $3 == "0380") { print $1 }' \
    "$SCRATCH/lspci.tsv" > "$SCRATCH/expected-others.txt"
  [ ! -s "$SCRATCH/expected-gpus.txt" ] || fail "$name: expected a tree without NVIDIA GPUs, lspci shows some"

  status=0
  "$GNS_BIN" --root "$root" detect --json > "$SCRATCH/detect.json" 2> "$SCRATCH/detect.err" || status=$?
  [ "$status" -eq 3 ] || fail "$name: exit status $status, want 3 (no GPU): $(cat "$SCRATCH/detect.err")"
  [ ! -s "$SCRATCH/detect.err" ] || fail "$name: detect wrote to stderr: $(cat "$SCRATCH/detect.err")"
  jq -r '.gpus[].pci_address' "$SCRATCH/detect.json" | sort > "$SCRATCH/actual-gpus.txt"
  jq -r '(.nvswitches + .other_nvidia_functions)[].pci_address' "$SCRATCH/detect.json" \
    | sort > "$SCRATCH/actual-others.txt"
  diff -u "$SCRATCH/expected-gpus.txt" "$SCRATCH/actual-gpus.txt" || fail "$name: GPUs differ from lspci"
  diff -u "$SCRATCH/expected-others.txt" "$SCRATCH/actual-others.txt" \
    || fail "$name: other NVIDIA functions differ from lspci"
  [ "$(jq .gpu_count "$SCRATCH/detect.json")" -eq 0 ] || fail "$name: gpu_count is not 0"
  [ "$(jq -r .fabric_manager_required "$SCRATCH/detect.json")" = false ] || fail "$name: fabric manager required"
  [ "$(jq '.skipped | length' "$SCRATCH/detect.json")" -eq 0 ] || fail "$name: functions skipped"
  [ "$(jq '.pci_warnings | length' "$SCRATCH/detect.json")" -eq 0 ] || fail "$name: libpci warned"
  [ "$(jq -r .pci_source "$SCRATCH/detect.json")" = "sysfs $bus_pci" ] \
    || fail "$name: pci_source is $(jq .pci_source "$SCRATCH/detect.json"), want sysfs $bus_pci"
  echo "$name: $functions functions, no NVIDIA GPU, exit 3"
  checked=$((checked + 1))
done

[ "$checked" -ge 4 ] || fail "expected at least 4 sysfs tarballs, found $checked"
echo "detect agrees with lspci on $checked real sysfs trees"
