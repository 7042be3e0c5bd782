#!/usr/bin/env bash
# `configure --runtime=containerd --drop-in` on a root whose containerd is this host's real one
# (Debian 12's 1.6.20, copied into the root with the libraries it needs, so that gpu-node-setup
# runs `containerd --version` there, chrooted, as it does on any --root) is refused as a usage
# error (exit 2) that says why, and nothing is written. Without --drop-in the same root is
# edited in place, and `containerd config dump` (1.6.20) keeps the kubeadm config's
# sandbox_image and runc's SystemdCgroup beside the nvidia runtime as the default.
#
# Why the refusal, shown with that same containerd: the drop-in gpu-node-setup writes where
# containerd merges imports key by key (got from a copy of the root whose stand-in `containerd`
# says 2.1.0) loads in 1.6.20 with the nvidia runtime as the default, but the dump has lost the
# user's sandbox_image and the runc runtime: 1.6 replaces the whole CRI plugin table with the
# drop-in's.
source "$(dirname "$0")/lib.sh"
require_tool containerd ldd sha256sum awk
[ "$(id -u)" = 0 ] || skip "gpu-node-setup runs containerd chrooted into --root, which needs root"
[ -f "$GNS_TEST_FIXTURES/containerd/kubeadm-systemd-cgroup.toml" ] || skip "kubeadm fixture missing"
cri='plugins."io.containerd.grpc.v1.cri"'
dropin=/etc/containerd/conf.d/99-nvidia.toml

# new_root DIR: a root holding the kubeadm config.toml.
new_root() {
  mkdir -p "$1/etc/containerd"
  cp "$GNS_TEST_FIXTURES/containerd/kubeadm-systemd-cgroup.toml" "$1/etc/containerd/config.toml"
}

# table_body FILE HEADER: the trimmed key lines of table [HEADER] in a `config dump` output.
table_body() {
  awk -v want="[$2]" '
    { line = $0; gsub(/^[ \t]+|[ \t]+$/, "", line) }
    line ~ /^\[/ { inside = (line == want); next }
    inside && line != "" { print line }' "$1"
}

# dump ROOT OUT: `containerd config dump` of ROOT's config.toml, its import of our drop-in
# pointed into ROOT (containerd resolves imports on the machine it runs on).
dump() {
  sed "s#\"$dropin\"#\"$1$dropin\"#" "$1/etc/containerd/config.toml" > "$2.toml"
  containerd --config "$2.toml" config dump > "$2" 2> "$2.err" \
    || fail "containerd rejects $1's config: $(tail -3 "$2.err")"
}

# (1) The real containerd 1.6.20: --drop-in is refused, nothing written.
real="$SCRATCH/real"
new_root "$real"
install_program "$real" "$(command -v containerd)" /usr/bin/containerd
before=$(sha256sum < "$real/etc/containerd/config.toml")
status=0
"$GNS_BIN" --root "$real" configure --runtime=containerd --drop-in > "$SCRATCH/refused" 2>&1 || status=$?
[ "$status" -eq 2 ] || fail "--drop-in on 1.6: exit $status: $(cat "$SCRATCH/refused")"
grep -q "containerd 1.6 replaces a plugin's whole table" "$SCRATCH/refused" \
  || fail "--drop-in on 1.6: the refusal does not say why: $(cat "$SCRATCH/refused")"
[ "$(sha256sum < "$real/etc/containerd/config.toml")" = "$before" ] || fail "--drop-in changed config.toml"
[ ! -e "$real$dropin" ] || fail "--drop-in wrote $dropin anyway"

# (2) Without --drop-in: in place, and containerd 1.6.20 keeps everything of the user's.
"$GNS_BIN" --root "$real" configure --runtime=containerd > "$SCRATCH/in-place" 2>&1 \
  || fail "configure on 1.6: $(cat "$SCRATCH/in-place")"
[ ! -e "$real$dropin" ] || fail "configure on 1.6 wrote a drop-in"
dump "$real" "$SCRATCH/in-place.dump"
table_body "$SCRATCH/in-place.dump" "$cri.containerd" | grep -qxF 'default_runtime_name = "nvidia"' \
  || fail "in place: nvidia is not the default"
table_body "$SCRATCH/in-place.dump" "$cri" | grep -qxF 'sandbox_image = "registry.k8s.io/pause:3.9"' \
  || fail "in place: the user's sandbox_image is lost"
table_body "$SCRATCH/in-place.dump" "$cri.containerd.runtimes.runc.options" | grep -qxF 'SystemdCgroup = true' \
  || fail "in place: runc's SystemdCgroup is lost"

# (3) The drop-in written where containerd says 2.1, read by the real 1.6.20.
standin="$SCRATCH/standin"
new_root "$standin"
install_program "$standin" "$(readlink -f /bin/sh)" /bin/sh
mkdir -p "$standin/usr/bin"
printf '#!/bin/sh\necho "containerd github.com/containerd/containerd v2.1.0 stand-in"\n' \
  > "$standin/usr/bin/containerd"
chmod 755 "$standin/usr/bin/containerd"
"$GNS_BIN" --root "$standin" configure --runtime=containerd > "$SCRATCH/standin.out" 2>&1 \
  || fail "configure on the 2.1 stand-in: $(cat "$SCRATCH/standin.out")"
[ -f "$standin$dropin" ] || fail "no drop-in on the 2.1 stand-in: $(cat "$SCRATCH/standin.out")"
dump "$standin" "$SCRATCH/dropin.dump"
table_body "$SCRATCH/dropin.dump" "$cri.containerd" | grep -qxF 'default_runtime_name = "nvidia"' \
  || fail "drop-in in 1.6: nvidia is not the default"
table_body "$SCRATCH/dropin.dump" "$cri.containerd.runtimes.nvidia.options" \
  | grep -qxF 'BinaryName = "/usr/bin/nvidia-container-runtime"' || fail "drop-in in 1.6: no nvidia runtime"
# ...and what 1.6 makes of the rest of the user's CRI section: gone, which is why --drop-in is
# refused there.
table_body "$SCRATCH/dropin.dump" "$cri" | grep -qxF 'sandbox_image = "registry.k8s.io/pause:3.9"' \
  && fail "containerd 1.6 kept the user's sandbox_image beside a drop-in: the refusal is outdated"
grep -qF "[$cri.containerd.runtimes.runc]" "$SCRATCH/dropin.dump" \
  && fail "containerd 1.6 kept the user's runc runtime beside a drop-in: the refusal is outdated"
echo "--drop-in is refused on containerd 1.6.20, whose imports replace the user's CRI settings"
