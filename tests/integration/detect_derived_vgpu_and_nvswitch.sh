#!/usr/bin/env bash
# The derived dumps in tests/fixtures/pci (no public vGPU guest or NVSwitch config dump
# exists): derive.sh regenerates them byte for byte from the shared real dumps; Debian's
# real lspci sees in them what SOURCES.md claims (the vGPU capability spliced into an intact
# chain; NVSwitch and GPU functions at the stated addresses and classes); and `detect --json
# --pci-dump` reports the vGPU host driver version and branch (null for the underived GPU),
# and for the HGX board 2 Hopper GPUs (open modules supported), 2 NVSwitches and that the
# fabric manager is required - agreeing with lspci on every address and class.
source "$(dirname "$0")/lib.sh"
require_tool lspci jq od
: "${GNS_TEST_FIXTURES:?GNS_TEST_FIXTURES must name tests/fixtures (ctest sets it)}"
shared="$GNS_SHARED_FIXTURES/pci"
ours="$GNS_TEST_FIXTURES/pci"
require_dir "$shared"
p1000="$shared/quadro-p1000-hp-vfio-host.lspci-xxx.txt"
vgpu="$ours/vgpu-guest-derived-from-quadro-p1000-hp-vfio-host.lspci-xxx.txt"
hgx="$ours/hgx-h100-2gpu-2nvswitch-derived-from-h100-sxm5-config96.lspci-x.txt"

# (i) The committed files are exactly what derive.sh makes from the shared dumps.
bash "$ours/derive.sh" "$shared" "$SCRATCH/derived" || fail "derive.sh failed"
for file in "$vgpu" "$hgx"; do
  diff -u "$file" "$SCRATCH/derived/$(basename "$file")" \
    || fail "$(basename "$file") differs from what derive.sh makes (-committed +derived)"
done
[ "$(find "$SCRATCH/derived" -type f | wc -l)" -eq 2 ] || fail "derive.sh made other files than the 2 committed"

detect() {
  local status=0
  "$GNS_BIN" detect --json --pci-dump "$1" > "$SCRATCH/detect.json" 2> "$SCRATCH/detect.err" || status=$?
  [ "$status" -eq 0 ] || fail "$(basename "$1"): exit status $status, want 0: $(cat "$SCRATCH/detect.err")"
}
json() { jq -r "$@" "$SCRATCH/detect.json"; }
# NVIDIA functions as lspci -F sees them: address class device, one line each
lspci_nvidia() {
  lspci -F "$1" -nDvmm | awk -F'\t' '
    function flush() { if (slot != "" && vendor == "10de") print slot, class, device; slot = "" }
    /^Slot:/ { flush(); slot = $2 } /^Class:/ { class = $2 } /^Vendor:/ { vendor = $2 }
    /^Device:/ { device = $2 } END { flush() }' OFS='\t' | sort
}

# (iii, vGPU) lspci: one new line, the vendor-specific capability; the rest of the chain and
# every other decoded field unchanged.
lspci -F "$p1000" -s 05:00.0 -vvv 2> /dev/null > "$SCRATCH/original.vvv"
lspci -F "$vgpu" -vvv 2> /dev/null > "$SCRATCH/vgpu.vvv"
diff "$SCRATCH/original.vvv" "$SCRATCH/vgpu.vvv" | grep '^[<>]' > "$SCRATCH/vvv.diff" || true
printf '> \tCapabilities: [c0] Vendor Specific Information: Len=1b <?>\n' \
  | diff -u - "$SCRATCH/vvv.diff" || fail "lspci -vvv of the vGPU dump differs from the original by more than the new capability"
grep -q '^	Capabilities: \[78\] Express' "$SCRATCH/vgpu.vvv" || fail "lspci lost the PCIe capability"

# (ii, vGPU) detect reads the host driver record; the original GPU has no vGPU capability.
detect "$vgpu"
lspci_nvidia "$vgpu" > "$SCRATCH/lspci.tsv"
json '.gpus[] | [.pci_address, .class_id, .device_id] | @tsv' | sort > "$SCRATCH/detect.tsv"
diff -u "$SCRATCH/lspci.tsv" "$SCRATCH/detect.tsv" || fail "vGPU dump: GPUs differ from lspci"
[ "$(json '.gpus[0].vgpu.host_driver_version')" = 550.54.16 ] \
  || fail "vgpu.host_driver_version is $(json -c '.gpus[0].vgpu'), want 550.54.16"
[ "$(json '.gpus[0].vgpu.host_driver_branch')" = r550_00 ] \
  || fail "vgpu.host_driver_branch is $(json -c '.gpus[0].vgpu'), want r550_00"
detect "$p1000"
[ "$(json '.gpus | length')" -eq 1 ] || fail "the original P1000 dump should have 1 GPU"
[ "$(json '.gpus[0].vgpu')" = null ] || fail "the original P1000 GPU has vgpu $(json -c '.gpus[0].vgpu'), want null"

# (ii, iii, HGX) 2 GPUs and 2 NVSwitches, as lspci classifies them.
detect "$hgx"
lspci_nvidia "$hgx" > "$SCRATCH/lspci.tsv"
printf '%s\t0680\t22a3\n' 0000:07:00.0 0000:08:00.0 > "$SCRATCH/expected-nvswitches.tsv"
printf '%s\t0302\t2330\n' 0000:1b:00.0 0000:43:00.0 > "$SCRATCH/expected-gpus.tsv"
sort "$SCRATCH/expected-nvswitches.tsv" "$SCRATCH/expected-gpus.tsv" \
  | diff -u - "$SCRATCH/lspci.tsv" || fail "lspci does not see the HGX dump as SOURCES.md describes it"
json '.nvswitches[] | [.pci_address, .class_id, .device_id] | @tsv' | sort \
  | diff -u "$SCRATCH/expected-nvswitches.tsv" - || fail "detect's nvswitches differ from lspci"
json '.gpus[] | [.pci_address, .class_id, .device_id] | @tsv' | sort \
  | diff -u "$SCRATCH/expected-gpus.tsv" - || fail "detect's gpus differ from lspci"
[ "$(json '.other_nvidia_functions | length')" -eq 0 ] || fail "HGX dump: unexpected other NVIDIA functions"
[ "$(json .gpu_count)" -eq 2 ] || fail "gpu_count is $(json .gpu_count), want 2"
[ "$(json .fabric_manager_required)" = true ] || fail "fabric_manager_required is not true"
[ "$(json '[.gpus[].architecture] | unique | join(",")')" = Hopper ] \
  || fail "architectures are $(json -c '[.gpus[].architecture]'), want Hopper"
[ "$(json '[.gpus[].open_modules] | unique | join(",")')" = supported ] \
  || fail "open_modules are $(json -c '[.gpus[].open_modules]'), want supported"
[ "$(json 'all(.gpus[]; .vgpu == null)')" = true ] || fail "H100 GPUs must not report vGPU"
echo "derived vGPU and NVSwitch dumps regenerate exactly and detect agrees with lspci on them"
