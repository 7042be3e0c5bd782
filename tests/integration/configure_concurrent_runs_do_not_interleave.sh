#!/usr/bin/env bash
# Twenty `configure --runtime=containerd` started at once on one root take turns on the host
# lock: all succeed, exactly one changes the file and the others find nothing to do, and the
# result is one nvidia runtime that containerd loads as its default, with one journal record
# of one file. While another process holds the lock, `--lock-timeout 0` exits 4 at once and
# leaves the file alone.
source "$(dirname "$0")/lib.sh"
require_tool containerd jq flock sha256sum stat
stock="$GNS_TEST_FIXTURES/containerd/config-default-1.6.20.toml"
[ -f "$stock" ] || skip "fixture $stock is missing"
cri='plugins."io.containerd.grpc.v1.cri".containerd'

root="$SCRATCH/root"
config="$root/etc/containerd/config.toml"
mkdir -p "$root/etc/containerd"
cp "$stock" "$config"
stock_sha=$(sha256sum "$stock" | cut -d' ' -f1)

pids=()
for i in $(seq 20); do
  "$GNS_BIN" --root "$root" configure --runtime=containerd --lock-timeout 30 \
    > "$SCRATCH/run$i.out" 2> "$SCRATCH/run$i.err" &
  pids+=($!)
done
applied=0 unchanged=0
for i in $(seq 20); do
  status=0
  wait "${pids[i - 1]}" || status=$?
  if [ "$status" -eq 4 ] && grep -q "another gpu-node-setup run holds" "$SCRATCH/run$i.err"; then
    fail "run $i gave up on the lock within its 30 s: $(cat "$SCRATCH/run$i.err")"
  fi
  [ "$status" -eq 0 ] || fail "run $i exited $status: $(cat "$SCRATCH/run$i.err")"
  grep -q "runtime: applied" "$SCRATCH/run$i.out" && applied=$((applied + 1))
  grep -q "runtime: nothing to do" "$SCRATCH/run$i.out" && unchanged=$((unchanged + 1))
done
if [ "$applied" -ne 1 ] || [ "$unchanged" -ne 19 ]; then
  fail "$applied runs applied and $unchanged found nothing to do; want 1 and 19"
fi

# The result: containerd loads it, with one nvidia runtime, the default.
containerd --config "$config" config dump > "$SCRATCH/dump" 2> "$SCRATCH/dump.err" \
  || fail "containerd rejects the result: $(tail -3 "$SCRATCH/dump.err")"
table() { awk -v want="[$1]" '{ l = $0; gsub(/^[ \t]+|[ \t]+$/, "", l) }
  l ~ /^\[/ { inside = (l == want); next } inside && l != "" { print l }' "$SCRATCH/dump"; }
table "$cri" | grep -qxF 'default_runtime_name = "nvidia"' || fail "nvidia is not the default: $(table "$cri")"
table "$cri.runtimes.nvidia.options" | grep -qxF 'BinaryName = "/usr/bin/nvidia-container-runtime"' \
  || fail "no nvidia runtime with its BinaryName in the dump"
headers=$(grep -c 'runtimes\.nvidia\]' "$config" || true)
[ "$headers" -eq 1 ] || fail "the file has $headers runtimes.nvidia] headers, want 1"

# The journal: one record of the runtime stage (counted in jq's stream, which keeps a duplicate
# key that a parsed object would hide), with one file: ours, from the stock bytes to these.
journal="$root/var/lib/gpu-node-setup/journal.json"
[ -f "$journal" ] || fail "no journal at $journal"
records=$(jq -c --stream 'select(length == 2 and .[0] == ["stages", "runtime", "applied_at"])' "$journal" | wc -l)
[ "$records" -eq 1 ] || fail "the journal has $records records of the runtime stage, want 1"
[ "$(jq '.stages.runtime.files | length' "$journal")" -eq 1 ] \
  || fail "the runtime record lists $(jq -c '.stages.runtime.files' "$journal"), want one file"
[ "$(jq -r '.stages.runtime.files[0].path' "$journal")" = /etc/containerd/config.toml ] \
  || fail "the journal's file: $(jq -r '.stages.runtime.files[0].path' "$journal")"
[ "$(jq -r '.stages.runtime.files[0].sha256_before' "$journal")" = "$stock_sha" ] \
  || fail "the journal's sha256_before is not the stock file's"
[ "$(jq -r '.stages.runtime.files[0].sha256_after' "$journal")" = "$(sha256sum "$config" | cut -d' ' -f1)" ] \
  || fail "the journal's sha256_after is not the file's"

# While `flock` holds the lock, --lock-timeout 0 gives up at once and writes nothing.
root="$SCRATCH/locked"
config="$root/etc/containerd/config.toml"
mkdir -p "$root/etc/containerd" "$root/run"
cp "$stock" "$config"
touch -d '2020-01-01 00:00:00.123456789' "$config"
mtime=$(stat -c %y "$config")
flock "$root/run/gpu-node-setup.lock" sleep 5 &
holder=$!
for _ in $(seq 100); do
  flock -n "$root/run/gpu-node-setup.lock" true || break
  sleep 0.05
done
status=0
"$GNS_BIN" --root "$root" configure --runtime=containerd --lock-timeout 0 \
  > "$SCRATCH/locked.out" 2> "$SCRATCH/locked.err" || status=$?
wait "$holder" || fail "the flock holding the lock failed"
[ "$status" -eq 4 ] || fail "with the lock held, configure exited $status, want 4: $(cat "$SCRATCH/locked.err")"
grep -q "another gpu-node-setup run holds" "$SCRATCH/locked.err" \
  || fail "the locked message is missing: $(cat "$SCRATCH/locked.err")"
[ "$(sha256sum < "$config")" = "$(sha256sum < "$stock")" ] || fail "the locked run changed the file"
[ "$(stat -c %y "$config")" = "$mtime" ] || fail "the locked run touched the file"
[ ! -e "$root/var/lib/gpu-node-setup" ] || fail "the locked run wrote $(find "$root/var/lib/gpu-node-setup" -type f)"
# Once the holder is gone the lock is free again: the same command now succeeds.
"$GNS_BIN" --root "$root" configure --runtime=containerd --lock-timeout 0 > "$SCRATCH/after.out" 2>&1 \
  || fail "after the holder exited, configure failed: $(cat "$SCRATCH/after.out")"
echo "20 concurrent runs took turns: one applied, 19 found nothing to do; a held lock gave 4"
