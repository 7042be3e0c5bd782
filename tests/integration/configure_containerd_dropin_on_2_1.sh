#!/usr/bin/env bash
# `configure --runtime=containerd` on a root whose containerd says it is 2.1.0 writes the runtime
# to /etc/containerd/conf.d/99-nvidia.toml, byte for byte the reviewed
# tests/golden/containerd-dropin/<case>.99-nvidia.toml, and changes config.toml only by its
# import: one `imports` line for EKS nodeadm's version 3 config, nothing at all for the Cluster
# API image builder's containerd 2.3 config (its conf.d/*.toml glob covers the drop-in), and
# `version = 3` plus the import where there is no config.toml. Each time a second configure has
# nothing to do, status says applied, and revert restores config.toml's bytes (or its absence)
# and removes the drop-in; revert --force after an operator's edit keeps the edit and takes out
# only the import. GNS_TEST_ACCEPT=1 rewrites the golden files from the output.
#
# containerd 2.x is not packaged in Debian 12, so `containerd` in the root is a stand-in script
# (run chrooted, as gpu-node-setup runs every command under --root) that prints what 2.1.0
# prints; tests/unit/config/containerd_dropin_test.cpp parses the same drop-ins with toml++ and
# checks that, merged key by key as containerd 2.1 merges imports, they mean exactly what the
# in-place edit means, on every containerd config of ../shared/fixtures/runtime-configs.
source "$(dirname "$0")/lib.sh"
: "${GNS_GOLDEN_DIR:?}"
require_tool ldd sha256sum diff
[ "$(id -u)" = 0 ] || skip "gpu-node-setup runs containerd chrooted into --root, which needs root"
corpus="$GNS_SHARED_FIXTURES/runtime-configs"
require_dir "$corpus"
dropin=/etc/containerd/conf.d/99-nvidia.toml

# containerd_2_1 ROOT: a stand-in containerd in ROOT that says it is 2.1.0.
containerd_2_1() {
  install_program "$1" "$(readlink -f /bin/sh)" /bin/sh
  mkdir -p "$1/usr/bin"
  printf '#!/bin/sh\necho "containerd github.com/containerd/containerd v2.1.0 stand-in"\n' \
    > "$1/usr/bin/containerd"
  chmod 755 "$1/usr/bin/containerd"
}

# check_golden NAME FILE: FILE is the reviewed golden drop-in NAME.
check_golden() {
  local golden="$GNS_GOLDEN_DIR/containerd-dropin/$1"
  if [ "${GNS_TEST_ACCEPT:-0}" = 1 ]; then
    mkdir -p "$(dirname "$golden")"
    cp "$2" "$golden"
  else
    diff -u "$golden" "$2" || fail "$1: the drop-in differs from $golden (GNS_TEST_ACCEPT=1 to accept)"
  fi
}

# check_case NAME SOURCE ADDED: configure a root holding SOURCE ("" for none) as config.toml;
# ADDED is the exact text `diff` shows config.toml gained ("" for nothing).
check_case() {
  local name=$1 source=$2 added=$3 dir="$SCRATCH/$1" root="$SCRATCH/$1/root"
  local config="$root/etc/containerd/config.toml"
  mkdir -p "$root/etc/containerd"
  containerd_2_1 "$root"
  [ -z "$source" ] || cp "$source" "$config"
  local before=absent
  [ ! -f "$config" ] || before=$(sha256sum < "$config")

  "$GNS_BIN" --root "$root" configure --runtime=containerd > "$dir/out" 2>&1 \
    || fail "$name: configure failed: $(cat "$dir/out")"
  [ -f "$root$dropin" ] || fail "$name: no drop-in: $(cat "$dir/out")"
  check_golden "$name.99-nvidia.toml" "$root$dropin"
  [ "$(stat -c %a "$root$dropin")" = 644 ] || fail "$name: drop-in mode $(stat -c %a "$root$dropin")"
  if [ -n "$source" ]; then
    [ "$(diff "$source" "$config" | grep '^[<>]' || true)" = "$added" ] \
      || fail "$name: config.toml changed otherwise: $(diff "$source" "$config" || true)"
  else
    [ "$(cat "$config")" = "$added" ] || fail "$name: config.toml is $(cat "$config")"
  fi

  local applied
  applied=$(sha256sum "$config" "$root$dropin")
  "$GNS_BIN" --root "$root" configure --runtime=containerd > "$dir/again" 2>&1
  grep -q "nothing to do" "$dir/again" || fail "$name: second configure: $(cat "$dir/again")"
  [ "$(sha256sum "$config" "$root$dropin")" = "$applied" ] || fail "$name: second configure wrote"
  "$GNS_BIN" --root "$root" status > "$dir/status" 2>&1 || fail "$name: status: $(cat "$dir/status")"
  grep -q "^runtime  *applied  *containerd" "$dir/status" || fail "$name: status: $(cat "$dir/status")"

  "$GNS_BIN" --root "$root" revert > "$dir/revert" 2>&1 || fail "$name: revert: $(cat "$dir/revert")"
  [ ! -e "$root$dropin" ] || fail "$name: revert left the drop-in"
  if [ "$before" = absent ]; then
    [ ! -e "$config" ] || fail "$name: revert left a config.toml that was absent"
  else
    [ "$(sha256sum < "$config")" = "$before" ] || fail "$name: revert did not restore config.toml"
  fi
}

import_line="> imports = ['$dropin']"
check_case eks-nodeadm-e2e-v3-runc "$corpus/containerd--eks-nodeadm-e2e-v3-runc.toml" "$import_line"
check_case capi-image-builder-aws-containerd2.3 \
  "$corpus/containerd--capi-image-builder-aws-containerd2.3.toml" ""
check_case no-config-v3 "" "version = 3
imports = [\"$dropin\"]"

# revert --force after the operator changed config.toml: their change stays, our import goes.
root="$SCRATCH/force/root"
mkdir -p "$root/etc/containerd"
containerd_2_1 "$root"
cp "$corpus/containerd--eks-nodeadm-e2e-v3-runc.toml" "$root/etc/containerd/config.toml"
"$GNS_BIN" --root "$root" configure --runtime=containerd > "$SCRATCH/force/out" 2>&1 \
  || fail "force: configure: $(cat "$SCRATCH/force/out")"
sed -i "s#pause:3.10#pause:3.10.1#" "$root/etc/containerd/config.toml"
status=0
"$GNS_BIN" --root "$root" revert > "$SCRATCH/force/refused" 2>&1 || status=$?
[ "$status" -eq 6 ] || fail "force: revert of an edited config.toml: exit $status"
"$GNS_BIN" --root "$root" revert --force > "$SCRATCH/force/revert" 2>&1 \
  || fail "force: revert --force: $(cat "$SCRATCH/force/revert")"
sed "s#pause:3.10#pause:3.10.1#" "$corpus/containerd--eks-nodeadm-e2e-v3-runc.toml" > "$SCRATCH/force/expected"
diff -u "$SCRATCH/force/expected" "$root/etc/containerd/config.toml" \
  || fail "force: revert --force did not keep exactly the operator's edit"
[ ! -e "$root$dropin" ] || fail "force: revert --force left the drop-in"
echo "containerd 2.1 gets the golden drop-in and an import; both revert"
