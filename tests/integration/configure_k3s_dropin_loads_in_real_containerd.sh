#!/usr/bin/env bash
# `configure --runtime=k3s` where k3s's generated containerd config imports its drop-in
# directory, for a runtime k3s does not find by itself (the GPU Operator's toolkit path,
# /usr/local/nvidia/toolkit): version 2 (config.toml.d, what a config.toml.tmpl built on k3s's base gives) and
# version 3 (config-v3.toml.d, k3s's own template with containerd 2). We write 99-nvidia.toml
# there, in the plugin names of the generated config's version, with runc's SystemdCgroup; the
# generated config itself is never touched. For version 2, Debian's containerd
# (`containerd --config <copy of the generated config> config dump`, the copy importing the
# drop-in under this test's root) shows the nvidia runtime with our BinaryName. Containerd 1.6
# cannot read version 3 (it ignores io.containerd.cri.v1.*), so that drop-in is checked as
# TOML (tomllib) for the same table and keys. Status says applied, a second configure writes
# nothing, revert restores every file's sha256 and removes the drop-in.
#
# Containerd 1.6 lets an import replace a plugin's whole table, so its dump of the copy shows
# only what the drop-in holds (our runtime, and runc, which it carries for that reason).
source "$(dirname "$0")/lib.sh"
require_tool containerd python3 sha256sum
fixtures="$GNS_TEST_FIXTURES/k3s"
require_dir "$fixtures"
binary=/usr/local/nvidia/toolkit/nvidia-container-runtime

# node VERSION: a k3s node root whose generated containerd config is the fixture for VERSION.
node() {
  local root="$SCRATCH/root-v$1"
  mkdir -p "$root/usr/local/bin" "$root/usr/local/nvidia/toolkit" "$root/etc/rancher/k3s" "$root/var/lib/rancher/k3s/agent/etc/containerd"
  printf '#!/bin/sh\n' > "$root/usr/local/bin/k3s"
  printf '#!/bin/sh\n' > "$root$binary"
  chmod 755 "$root/usr/local/bin/k3s" "$root$binary"
  printf '# the operator'"'"'s\r\ntoken: abc\r\n' > "$root/etc/rancher/k3s/config.yaml"
  cp "$fixtures/generated-v$1-imports.toml" "$root/var/lib/rancher/k3s/agent/etc/containerd/config.toml"
  echo "$root"
}
shas() { (cd "$1" && find . -type f ! -path './run/*' ! -path './var/lib/gpu-node-setup/*' -print0 | sort -z | xargs -0 sha256sum); }

# configure_node ROOT VERSION DROPIN CRI: configure, then check the drop-in and the node's
# other files.
configure_node() {
  local root=$1 version=$2 dropin=$3 cri=$4
  "$GNS_BIN" --root "$root" configure --runtime=k3s --runtime-path "$binary" > "$SCRATCH/out" 2>&1 || fail "configure: $(cat "$SCRATCH/out")"
  grep -Eq '^runtime: .*create[: ]1.*modify[: ]1' "$SCRATCH/out" || fail "counts: $(cat "$SCRATCH/out")"
  [ -f "$root$dropin" ] || fail "no drop-in at $dropin: $(cat "$SCRATCH/out")"
  python3 - "$root$dropin" "$cri" "$binary" <<'EOF2' || fail "drop-in $dropin: $(cat "$root$dropin")"
import sys, tomllib
table = tomllib.load(open(sys.argv[1], 'rb'))
runtime = table['plugins'][sys.argv[2]]['containerd']['runtimes']['nvidia']
assert runtime['runtime_type'] == 'io.containerd.runc.v2', runtime
assert runtime['options']['BinaryName'] == sys.argv[3], runtime
assert 'SystemdCgroup' in runtime['options'], runtime
assert 'default_runtime_name' not in str(table), table
EOF2
  tr -d '\r' < "$root/etc/rancher/k3s/config.yaml" | grep -qx 'default-runtime: nvidia' || fail "config.yaml lacks our line"
  cmp -s "$fixtures/generated-v$version-imports.toml" "$root/var/lib/rancher/k3s/agent/etc/containerd/config.toml" \
    || fail "the generated config was touched"
}

# check_applied_then_revert ROOT BEFORE DROPIN
check_applied_then_revert() {
  local root=$1 before=$2 dropin=$3 journal
  "$GNS_BIN" --root "$root" status --stages runtime > "$SCRATCH/status" 2>&1 || fail "status: $(cat "$SCRATCH/status")"
  grep -q '^runtime  *applied  *k3s' "$SCRATCH/status" || fail "status: $(cat "$SCRATCH/status")"
  journal=$(sha256sum < "$root/var/lib/gpu-node-setup/journal.json")
  "$GNS_BIN" --root "$root" configure --runtime=k3s --runtime-path "$binary" > "$SCRATCH/again" 2>&1 || fail "again: $(cat "$SCRATCH/again")"
  grep -q '^runtime: nothing to do$' "$SCRATCH/again" || fail "second configure: $(cat "$SCRATCH/again")"
  [ "$(sha256sum < "$root/var/lib/gpu-node-setup/journal.json")" = "$journal" ] || fail "second configure wrote the journal"
  "$GNS_BIN" --root "$root" revert --stages runtime > "$SCRATCH/revert" 2>&1 || fail "revert: $(cat "$SCRATCH/revert")"
  [ ! -e "$root$dropin" ] || fail "revert left $dropin"
  [ "$(shas "$root")" = "$before" ] || fail "revert did not restore every file"
}

# Version 2: config.toml.d, loaded by the real containerd.
root=$(node 2)
dropin=/var/lib/rancher/k3s/agent/etc/containerd/config.toml.d/99-nvidia.toml
before=$(shas "$root")
configure_node "$root" 2 "$dropin" io.containerd.grpc.v1.cri
copy="$SCRATCH/generated-v2-in-root.toml"
sed "s#\"/var/lib/rancher/#\"$root/var/lib/rancher/#" "$root/var/lib/rancher/k3s/agent/etc/containerd/config.toml" > "$copy"
grep -q "imports = \[\"$root/" "$copy" || fail "the copy does not import from the root: $(grep imports "$copy")"
containerd --config "$copy" config dump > "$SCRATCH/dump" 2> "$SCRATCH/dump.err" || fail "config dump: $(cat "$SCRATCH/dump.err")"
grep -q '^ *\[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options\]$' "$SCRATCH/dump" \
  || fail "containerd does not show the nvidia runtime: $(grep -n runtimes "$SCRATCH/dump")"
grep -qx "            BinaryName = \"$binary\"" "$SCRATCH/dump" || fail "containerd shows another BinaryName: $(grep -n BinaryName "$SCRATCH/dump")"
check_applied_then_revert "$root" "$before" "$dropin"

# Version 3: config-v3.toml.d, checked as TOML.
root=$(node 3)
dropin=/var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.d/99-nvidia.toml
before=$(shas "$root")
configure_node "$root" 3 "$dropin" io.containerd.cri.v1.runtime
check_applied_then_revert "$root" "$before" "$dropin"
# The toolkit's usual /usr/bin/nvidia-container-runtime: k3s adds that runtime itself at start,
# so no drop-in is written (one read by a containerd before 2.1 would replace k3s's whole CRI
# table); only config.yaml changes, and the plan says why.
root=$(node 2)
mkdir -p "$root/usr/bin"
printf '#!/bin/sh\n' > "$root/usr/bin/nvidia-container-runtime"
chmod 755 "$root/usr/bin/nvidia-container-runtime"
"$GNS_BIN" --root "$root" configure --runtime=k3s > "$SCRATCH/out" 2>&1 || fail "configure: $(cat "$SCRATCH/out")"
grep -qx 'runtime: modify 1 file' "$SCRATCH/out" || fail "k3s with the usual binary: $(cat "$SCRATCH/out")"
[ -z "$(find "$root/var/lib/rancher/k3s/agent/etc/containerd" -name '99-nvidia.toml')" ] || fail "a drop-in was written though k3s finds the runtime itself"
grep -q 'adds runtime nvidia (/usr/bin/nvidia-container-runtime) to its containerd config by itself' "$SCRATCH/out" \
  || fail "the plan does not say k3s adds the runtime: $(cat "$SCRATCH/out")"

echo "configure --runtime=k3s writes a drop-in where k3s imports one; containerd loads it; revert removes it"
