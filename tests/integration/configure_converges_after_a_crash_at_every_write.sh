#!/usr/bin/env bash
# Crash safety: configure is stopped dead before each of its file writes in turn (a test build
# with GNS_FAULT_INJECTION; GNS_CRASH_AT_WRITE=N exits 86 just before the Nth rename, as a
# power cut would). After every such crash the config holds either the old or the new bytes,
# never a mix; the next run converges (configured, no temp file left, containerd loads it);
# and revert then gives back the original bytes.
source "$(dirname "$0")/lib.sh"
require_tool sha256sum containerd
stock="$GNS_TEST_FIXTURES/containerd/config-default-1.6.20.toml"
config=etc/containerd/config.toml

fresh_root() {
  rm -rf "$SCRATCH/root"
  mkdir -p "$SCRATCH/root/etc/containerd"
  cp "$stock" "$SCRATCH/root/$config"
}
configure() { "$GNS_BIN" --root "$SCRATCH/root" configure --runtime=containerd "$@"; }

# The bytes a run that is not interrupted writes.
fresh_root
configure > /dev/null
original_sha=$(sha256sum < "$stock")
configured_sha=$(sha256sum < "$SCRATCH/root/$config")
[ "$original_sha" != "$configured_sha" ] || fail "configure changed nothing"

status=0
GNS_CRASH_AT_WRITE=1 configure > /dev/null 2>&1 || status=$?
[ "$status" -eq 0 ] || fail "a configured root must need no write (exit $status)"
fresh_root
status=0
GNS_CRASH_AT_WRITE=1 configure > /dev/null 2>&1 || status=$?
[ "$status" -eq 86 ] || skip "this build has no fault injection (cmake -DGNS_FAULT_INJECTION=ON)"

crashes=0
for n in $(seq 1 20); do
  fresh_root
  status=0
  GNS_CRASH_AT_WRITE=$n configure > /dev/null 2>&1 || status=$?
  [ "$status" -eq 0 ] && break  # fewer than n writes: every crash point was tried
  [ "$status" -eq 86 ] || fail "write $n: configure exited $status, not the simulated crash"
  crashes=$((crashes + 1))
  now=$(sha256sum < "$SCRATCH/root/$config")
  [ "$now" = "$original_sha" ] || [ "$now" = "$configured_sha" ] \
    || fail "write $n: config.toml is neither the old nor the new bytes"

  configure > "$SCRATCH/again" 2>&1 || fail "write $n: the run after the crash failed: $(cat "$SCRATCH/again")"
  [ "$(sha256sum < "$SCRATCH/root/$config")" = "$configured_sha" ] || fail "write $n: did not converge"
  leftovers=$(find "$SCRATCH/root" -name '.*.gns-*')
  [ -z "$leftovers" ] || fail "write $n: temp files left behind: $leftovers"
  containerd --config "$SCRATCH/root/$config" config dump > /dev/null || fail "write $n: containerd rejects it"

  "$GNS_BIN" --root "$SCRATCH/root" revert > "$SCRATCH/revert" 2>&1 || fail "write $n: revert failed: $(cat "$SCRATCH/revert")"
  [ "$(sha256sum < "$SCRATCH/root/$config")" = "$original_sha" ] || fail "write $n: revert did not restore the original"
done
[ "$crashes" -ge 3 ] || fail "expected configure to make at least 3 writes (backup, journal, config), saw $crashes"
echo "configure converged after a crash at each of its $crashes writes; revert restored the original each time"
