#!/usr/bin/env bash
# What `plan` (text and --json) and `configure --dry-run` print for a few small roots, compared
# with the reviewed files in tests/golden/plan/: containerd's stock config (`containerd config
# default` of 1.6.20), a kubeadm-style version 2 config with SystemdCgroup, a config configure
# already wrote (nothing to do), two malformed config.toml files (error text, exit 5), a
# daemon.json with the user's keys and CRI-O with an empty crio.conf. `plan` reads PCI from a
# real machine's dump with two GeForce GT 1030 (so the nouveau stage plans its blacklist too);
# `configure` is the runtime stage alone and reads no PCI. Each golden file holds
# stdout, then stderr, then the exit status, with the root's path written <ROOT>. Neither
# command may write anything under the root. GNS_TEST_ACCEPT=1 rewrites the golden files from
# the current output, so a change in what plan prints shows up as a diff in review.
source "$(dirname "$0")/lib.sh"
: "${GNS_GOLDEN_DIR:?}" "${GNS_TEST_FIXTURES:?}"
require_tool sed diff jq sha256sum find sort
fixtures="$GNS_TEST_FIXTURES"
require_dir "$fixtures/containerd"
dump="$GNS_SHARED_FIXTURES/pci/gt1030-x2-hdmi-audio.lspci-xxx.txt"
[ -f "$dump" ] || skip "shared dump $dump is missing"
golden="$GNS_GOLDEN_DIR/plan"
mkdir -p "$golden"

# make_root CASE: builds $SCRATCH/CASE/root as the case needs; prints RUNTIME.
make_root() {
  local root="$SCRATCH/$1/root"
  node_packages_in_place "$root"
  case "$1" in
    containerd-stock)
      mkdir -p "$root/etc/containerd"
      cp "$fixtures/containerd/config-default-1.6.20.toml" "$root/etc/containerd/config.toml"
      echo containerd ;;
    containerd-kubeadm-systemd)
      mkdir -p "$root/etc/containerd"
      cp "$fixtures/containerd/kubeadm-systemd-cgroup.toml" "$root/etc/containerd/config.toml"
      echo containerd ;;
    containerd-already-configured)
      # What configure itself wrote over the stock config, in a root of its own.
      local prep="$SCRATCH/$1/prep"
      mkdir -p "$prep/etc/containerd" "$root/etc/containerd"
      cp "$fixtures/containerd/config-default-1.6.20.toml" "$prep/etc/containerd/config.toml"
      "$GNS_BIN" --root "$prep" configure --runtime=containerd --no-restart > "$SCRATCH/$1/prep.out" 2>&1 \
        || fail "$1: configure of the stock config failed: $(cat "$SCRATCH/$1/prep.out")"
      cp "$prep/etc/containerd/config.toml" "$root/etc/containerd/config.toml"
      echo containerd ;;
    containerd-malformed-unterminated-string | containerd-malformed-duplicate-table)
      mkdir -p "$root/etc/containerd"
      cp "$fixtures/containerd/${1#containerd-}.toml" "$root/etc/containerd/config.toml"
      echo containerd ;;
    docker-user-keys)
      mkdir -p "$root/etc/docker"
      sed 's#@DATA_ROOT@#/srv/docker#' "$fixtures/docker/user-keys.json" > "$root/etc/docker/daemon.json"
      echo docker ;;
    crio-empty)
      mkdir -p "$root/etc/crio"
      : > "$root/etc/crio/crio.conf"
      echo crio ;;
    *) fail "unknown case $1" ;;
  esac
}

# snapshot ROOT: every path under ROOT with its type and, for files, its sha256.
snapshot() {
  (cd "$1" && find . -printf '%y %p\n' | sort && find . -type f -exec sha256sum {} + | sort -k2)
}

cases=(containerd-stock containerd-kubeadm-systemd containerd-already-configured
  containerd-malformed-unterminated-string containerd-malformed-duplicate-table
  docker-user-keys crio-empty)
mismatches=0 compared=0
cd "$SCRATCH"
for case in "${cases[@]}"; do
  mkdir -p "$SCRATCH/$case"
  runtime=$(make_root "$case")
  root="$SCRATCH/$case/root"
  before=$(snapshot "$root")
  for variant in plan.txt plan.json configure-dry-run.txt; do
    case "$variant" in
      plan.txt) args=(--pci-dump "$dump" plan --runtime="$runtime") ;;
      plan.json) args=(--pci-dump "$dump" plan --runtime="$runtime" --json) ;;
      configure-dry-run.txt) args=(configure --runtime="$runtime" --dry-run) ;;
    esac
    out="$SCRATCH/$case/$variant"
    status=0
    "$GNS_BIN" --root "$root" "${args[@]}" > "$out.stdout" 2> "$out.stderr" || status=$?
    # Only a plan (0) or a refusal of a config file (5) is output worth comparing.
    [ "$status" -eq 0 ] || [ "$status" -eq 5 ] \
      || fail "$case: ${args[*]} exited $status: $(cat "$out.stderr")"
    if [ "$variant" = plan.json ] && [ "$status" -eq 0 ]; then
      jq -e '.schema_version == 1' "$out.stdout" > /dev/null \
        || fail "$case: plan --json is not a schema_version 1 document"
    fi
    {
      cat "$out.stdout"
      if [ -s "$out.stderr" ]; then echo "--- stderr"; cat "$out.stderr"; fi
      echo "--- exit status: $status"
    } | sed -e "s#$root#<ROOT>#g" -e "s#$SCRATCH#<SCRATCH>#g" > "$out"
    [ "$(snapshot "$root")" = "$before" ] || fail "$case: ${args[*]} changed something under the root"
    expected="$golden/$case.$variant"
    compared=$((compared + 1))
    if [ "${GNS_TEST_ACCEPT:-0}" = 1 ]; then
      cp "$out" "$expected"
    elif ! diff -u "$expected" "$out"; then
      echo "golden mismatch: $expected (GNS_TEST_ACCEPT=1 to accept)" >&2
      mismatches=$((mismatches + 1))
    fi
  done
done
# A golden file no case writes any more is stale.
for f in "$golden"/*; do
  [ -e "$f" ] || continue
  name=$(basename "$f")
  known=0
  for case in "${cases[@]}"; do
    for variant in plan.txt plan.json configure-dry-run.txt; do
      [ "$name" = "$case.$variant" ] && known=1
    done
  done
  [ "$known" = 1 ] || fail "stale golden file $f: no case writes it (remove it)"
done
[ "$mismatches" -eq 0 ] || fail "$mismatches outputs differ from tests/golden/plan"
echo "plan and configure --dry-run output matches $compared golden files; nothing written under the roots"
