#!/usr/bin/env bash
# A host root whose /sys is built from a real whole-machine dump (2x RTX A6000 with audio,
# ASPEED BMC VGA, AMD host) by tests/support/make_sysfs_tree.sh, adding what a dump cannot
# carry: GPUs bound to nvidia, audio to snd_hda_intel (one audio function left unbound), the
# second GPU's functions on NUMA node 1, nouveau loaded and blacklisted in /etc/modprobe.d.
# `detect --root ROOT --json` must agree with Debian's real lspci reading the same tree
# (GPU addresses, bound driver of every NVIDIA function, NUMA node) and with what was written
# (NUMA nodes, os-release, kernel release, nouveau loaded and blacklisted), exit status 0.
source "$(dirname "$0")/lib.sh"
require_tool lspci jq
dump="$GNS_SHARED_FIXTURES/pci/rtx-a6000-x2-threadripper-aspeed.lspci-xxx.txt"
[ -f "$dump" ] || skip "shared dump $dump is missing"
make_tree="$(dirname "$0")/../support/make_sysfs_tree.sh"

# lspci -vmm records -> TSV: address vendor class [numa]
vmm_tsv() {
  awk -F'\t' '
    function flush() { if (slot != "") print slot, vendor, class, numa; slot = "" }
    /^Slot:/ { flush(); slot = $2; numa = "" } /^Class:/ { class = $2 }
    /^Vendor:/ { vendor = $2 } /^NUMANode:/ { numa = $2 }
    END { flush() }' OFS='\t' | sort
}

# The plan, from the dump itself: GPU i (in address order) and its sibling functions go on
# NUMA node i % 2; the audio function of the last GPU stays unbound.
lspci -F "$dump" -nDvmm | vmm_tsv > "$SCRATCH/dump.tsv"
awk -F'\t' '$2 == "10de" && ($3 == "0300" || $3 == "0302" || $3 == "0380") { print $1 }' \
  "$SCRATCH/dump.tsv" > "$SCRATCH/dump-gpus.txt"
[ "$(wc -l < "$SCRATCH/dump-gpus.txt")" -eq 2 ] || fail "expected 2 GPUs in $dump"
tree_args=(--module nouveau)
: > "$SCRATCH/expected-numa.tsv"
index=0
while read -r gpu; do
  node=$((index % 2))
  while IFS=$'\t' read -r addr _; do
    tree_args+=(--numa "$addr=$node")
    printf '%s\t%s\n' "$addr" "$node" >> "$SCRATCH/expected-numa.tsv"
  done < <(awk -F'\t' -v slot="${gpu%.*}." 'index($1, slot) == 1 && $2 == "10de"' "$SCRATCH/dump.tsv")
  index=$((index + 1))
done < "$SCRATCH/dump-gpus.txt"
unbound=$(awk -F'\t' '$2 == "10de" && $3 == "0403" { a = $1 } END { print a }' "$SCRATCH/dump.tsv")
[ -n "$unbound" ] || fail "expected an NVIDIA audio function in $dump"
tree_args+=(--driver "$unbound=")

root="$SCRATCH/root"
bash "$make_tree" "$dump" "$root" "${tree_args[@]}" || fail "make_sysfs_tree.sh failed"
mkdir -p "$root/etc/modprobe.d" "$root/proc/sys/kernel"
cat > "$root/etc/os-release" <<'EOF'
NAME="Rocky Linux"
VERSION_ID="9.3"
ID="rocky"
ID_LIKE="rhel centos fedora"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
EOF
echo 5.14.0-362.8.1.el9_3.x86_64 > "$root/proc/sys/kernel/osrelease"
printf 'blacklist nouveau\noptions nouveau modeset=0\n' > "$root/etc/modprobe.d/blacklist-nouveau.conf"
bus_pci="$root/sys/bus/pci"

# lspci reads the tree as it reads the dump (same functions, classes, IDs), plus NUMA nodes.
lspci_sysfs() { lspci -A linux-sysfs -O sysfs.path="$bus_pci" "$@"; }
lspci_sysfs -nDvmm | vmm_tsv > "$SCRATCH/sysfs.tsv"
diff -u <(cut -f1-3 "$SCRATCH/dump.tsv") <(cut -f1-3 "$SCRATCH/sysfs.tsv") \
  || fail "lspci reads the built tree differently from the dump it was built from"

status=0
"$GNS_BIN" --root "$root" detect --json > "$SCRATCH/detect.json" 2> "$SCRATCH/detect.err" || status=$?
[ "$status" -eq 0 ] || fail "exit status $status, want 0: $(cat "$SCRATCH/detect.err")"
json() { jq -r "$@" "$SCRATCH/detect.json"; }

# GPU addresses: lspci -nD on the tree.
lspci_sysfs -nD | awk '{ c = $2; sub(/:$/, "", c); split($3, id, ":")
    if (id[1] == "10de" && (c == "0300" || c == "0302" || c == "0380")) print $1 }' \
  | sort > "$SCRATCH/lspci-gpus.txt"
json '.gpus[].pci_address' | sort > "$SCRATCH/detect-gpus.txt"
diff -u "$SCRATCH/lspci-gpus.txt" "$SCRATCH/detect-gpus.txt" || fail "GPU addresses differ from lspci -nD"
diff -u "$SCRATCH/dump-gpus.txt" "$SCRATCH/detect-gpus.txt" || fail "GPU addresses differ from the dump"

# Drivers: every NVIDIA function as lspci -k shows it (none shown = unbound = null).
json '(.gpus + .nvswitches + .other_nvidia_functions)[] | [.pci_address, .driver // "-"] | @tsv' \
  | sort > "$SCRATCH/detect-drivers.tsv"
: > "$SCRATCH/lspci-drivers.tsv"
while IFS=$'\t' read -r addr _; do
  driver=$(lspci_sysfs -k -s "$addr" 2> /dev/null | sed -n 's/^\tKernel driver in use: //p')
  printf '%s\t%s\n' "$addr" "${driver:--}" >> "$SCRATCH/lspci-drivers.tsv"
done < <(awk -F'\t' '$2 == "10de"' "$SCRATCH/sysfs.tsv")
diff -u "$SCRATCH/lspci-drivers.tsv" "$SCRATCH/detect-drivers.tsv" || fail "drivers differ from lspci -k"
[ "$(json '[.gpus[].driver] | unique | join(",")')" = nvidia ] || fail "GPUs are not reported bound to nvidia"
lspci_sysfs -k -s "${unbound#0000:}" 2> /dev/null | grep -q 'Kernel driver in use' \
  && fail "lspci shows a driver for $unbound, which was left unbound"
[ "$(json --arg a "$unbound" '.other_nvidia_functions[] | select(.pci_address == $a) | .driver')" = null ] \
  || fail "detect reports a driver for $unbound, which was left unbound"

# NUMA nodes: what was written, what lspci -vmm shows, what detect reports.
awk -F'\t' '$2 == "10de" { print $1, $4 }' OFS='\t' "$SCRATCH/sysfs.tsv" > "$SCRATCH/lspci-numa.tsv"
json '(.gpus + .other_nvidia_functions)[] | [.pci_address, .numa_node] | @tsv' \
  | sort > "$SCRATCH/detect-numa.tsv"
sort -o "$SCRATCH/expected-numa.tsv" "$SCRATCH/expected-numa.tsv"
diff -u "$SCRATCH/expected-numa.tsv" "$SCRATCH/lspci-numa.tsv" || fail "lspci's NUMA nodes differ from those written"
diff -u "$SCRATCH/expected-numa.tsv" "$SCRATCH/detect-numa.tsv" || fail "detect's NUMA nodes differ from those written"
[ "$(json '[.gpus[].numa_node] | unique | length')" -eq 2 ] || fail "the two GPUs should be on different NUMA nodes"

# Host facts from the same root.
[ "$(json .host.os.id)" = rocky ] || fail "host.os.id is $(json .host.os.id), want rocky"
[ "$(json .host.kernel.release)" = 5.14.0-362.8.1.el9_3.x86_64 ] || fail "kernel release is $(json .host.kernel.release)"
[ "$(json .host.kernel.nouveau_loaded)" = true ] || fail "nouveau_loaded is not true"
[ "$(json .host.kernel.nvidia_loaded)" = true ] || fail "nvidia_loaded is not true (the GPUs are bound to it)"
json '.host.kernel.nouveau_blacklisted_in[]' | grep -qx /etc/modprobe.d/blacklist-nouveau.conf \
  || fail "nouveau_blacklisted_in lacks /etc/modprobe.d/blacklist-nouveau.conf: $(json -c .host.kernel.nouveau_blacklisted_in)"
[ "$(json .pci_source)" = "sysfs $bus_pci" ] || fail "pci_source is $(json .pci_source)"
[ "$(json .gpu_count)" -eq 2 ] || fail "gpu_count is $(json .gpu_count), want 2"
echo "detect agrees with lspci on a sysfs tree built from $(basename "$dump")"
