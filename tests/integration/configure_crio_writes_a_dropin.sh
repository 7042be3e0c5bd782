#!/usr/bin/env bash
# `configure --runtime=crio` under a root holding a user's crio.conf (crun the default, with
# its own conmon and state directory) and a drop-in of theirs writes exactly the reviewed
# tests/golden/crio/99-nvidia.conf to /etc/crio/crio.conf.d/99-nvidia.conf, and nothing else:
# the user's files keep their bytes. A second configure has nothing to do, status says
# applied; a configure with another --runtime-path rewrites the drop-in (its first line,
# "# Written by gpu-node-setup", says it is ours, not the user's), and revert removes it. A
# malformed drop-in of the user's is refused at its line (exit 5) and nothing is written.
# GNS_TEST_ACCEPT=1 rewrites the golden file from the current output, so a change in what we
# write shows up as a diff in review.
#
# CRI-O is not packaged in Debian 12 (`apt-cache policy cri-o` finds no package), so no real
# crio loads the drop-in here: gpu-node-setup parses what it renders with toml++ before
# writing, the golden file pins the bytes, and tests/unit/config/crio_dropin_test.cpp checks
# that the drop-in means what nvidia-ctk's does for each of nvidia-ctk's own CRI-O cases.
source "$(dirname "$0")/lib.sh"
: "${GNS_GOLDEN_DIR:?}"
require_tool sha256sum
user_conf="$GNS_SHARED_FIXTURES/nvidia-ctk-cases/crio/installer-config-mode-complex-config-with-multiple-settings/input.toml"
[ -f "$user_conf" ] || skip "fixture $user_conf is missing"
golden="$GNS_GOLDEN_DIR/crio/99-nvidia.conf"

root="$SCRATCH/root"
dropin="$root/etc/crio/crio.conf.d/99-nvidia.conf"
mkdir -p "$root/etc/crio/crio.conf.d"
cp "$user_conf" "$root/etc/crio/crio.conf"
printf '# the operator'"'"'s own\n[crio.image]\npause_image = "registry.k8s.io/pause:3.10"\n' \
  > "$root/etc/crio/crio.conf.d/10-site.conf"
user_shas() { sha256sum "$root/etc/crio/crio.conf" "$root/etc/crio/crio.conf.d/10-site.conf"; }
before=$(user_shas)

"$GNS_BIN" --root "$root" configure --runtime=crio > "$SCRATCH/out" 2>&1 \
  || fail "configure failed: $(cat "$SCRATCH/out")"
[ -f "$dropin" ] || fail "no drop-in at $dropin: $(cat "$SCRATCH/out")"
if [ "${GNS_TEST_ACCEPT:-0}" = 1 ]; then
  mkdir -p "$(dirname "$golden")"
  cp "$dropin" "$golden"
else
  diff -u "$golden" "$dropin" || fail "drop-in differs from $golden (GNS_TEST_ACCEPT=1 to accept)"
fi
[ "$(user_shas)" = "$before" ] || fail "configure changed the user's files"
[ "$(stat -c %a "$dropin")" = 644 ] || fail "drop-in mode is $(stat -c %a "$dropin")"

applied=$(sha256sum < "$dropin")
"$GNS_BIN" --root "$root" configure --runtime=crio > "$SCRATCH/again" 2>&1
grep -q "nothing to do" "$SCRATCH/again" || fail "second configure: $(cat "$SCRATCH/again")"
[ "$(sha256sum < "$dropin")" = "$applied" ] || fail "second configure rewrote the drop-in"
"$GNS_BIN" --root "$root" status --runtime=crio > "$SCRATCH/status" 2>&1 \
  || fail "status failed: $(cat "$SCRATCH/status")"
grep -q "^runtime  *applied  *crio (/etc/crio/crio.conf.d/99-nvidia.conf)" "$SCRATCH/status" \
  || fail "status: $(cat "$SCRATCH/status")"

# Ours, under other settings: rewritten, not refused as a user's file would be.
"$GNS_BIN" --root "$root" configure --runtime=crio \
  --runtime-path /usr/local/nvidia/toolkit/nvidia-container-runtime > "$SCRATCH/moved" 2>&1 \
  || fail "configure with another --runtime-path: $(cat "$SCRATCH/moved")"
grep -q '^runtime_path = "/usr/local/nvidia/toolkit/nvidia-container-runtime"$' "$dropin" \
  || fail "the drop-in was not rewritten: $(cat "$dropin")"

"$GNS_BIN" --root "$root" revert > "$SCRATCH/revert" 2>&1 || fail "revert failed: $(cat "$SCRATCH/revert")"
[ ! -e "$dropin" ] || fail "revert left the drop-in"
[ "$(user_shas)" = "$before" ] || fail "revert changed the user's files"

# A drop-in of the user's that is not TOML: refused at its line, nothing written.
printf '[crio.runtime]\ndefault_runtime = crun\n' > "$root/etc/crio/crio.conf.d/20-broken.conf"
status=0
"$GNS_BIN" --root "$root" configure --runtime=crio > "$SCRATCH/broken" 2>&1 || status=$?
[ "$status" -eq 5 ] || fail "malformed drop-in: exit $status: $(cat "$SCRATCH/broken")"
grep -q "/etc/crio/crio.conf.d/20-broken.conf:2:" "$SCRATCH/broken" \
  || fail "malformed drop-in: no path:line: $(cat "$SCRATCH/broken")"
[ ! -e "$dropin" ] || fail "malformed drop-in: a drop-in was written anyway"
echo "configure --runtime=crio writes the golden drop-in, leaves the user's files, reverts"
