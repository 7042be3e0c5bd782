#!/usr/bin/env bash
# A host root with an NVIDIA GPU (sysfs built from a real dump) where nouveau is loaded:
# `apply` blacklists nouveau, rebuilds the initramfs (a recording update-initramfs run inside
# the root, as the tool runs every command there), leaves the runtime stage for after the
# reboot, writes /run/reboot-required and exits 7; a second apply before the reboot changes
# nothing, and with --reboot asks systemd to reboot. After the "reboot" (nouveau unloaded, /run
# emptied) apply configures the runtime
# and exits 0, a further apply has nothing to do, and revert leaves the files as they were
# and rebuilds the initramfs again.
source "$(dirname "$0")/lib.sh"
require_tool jq ldd sha256sum
dump="$GNS_SHARED_FIXTURES/pci/gt1030-x2-hdmi-audio.lspci-xxx.txt"
[ -f "$dump" ] || skip "shared dump $dump is missing"
root="$SCRATCH/root"
bash "$(dirname "$0")/../support/make_sysfs_tree.sh" "$dump" "$root" --module nouveau
node_packages_in_place "$root"

# /bin/sh and its libraries inside the root, so that a script there runs under chroot.
install_program "$root" /bin/sh /bin/sh
mkdir -p "$root/usr/sbin"
cat > "$root/usr/sbin/update-initramfs" <<'SCRIPT'
#!/bin/sh
echo "update-initramfs $*" >> /initramfs-calls
SCRIPT
chmod 755 "$root/usr/sbin/update-initramfs"

mkdir -p "$root/etc/docker"
printf '{\n  "log-driver": "journald"\n}\n' > "$root/etc/docker/daemon.json"
daemon_sha=$(sha256sum < "$root/etc/docker/daemon.json")
blacklist="$root/etc/modprobe.d/blacklist-nouveau.conf"
journal="$root/var/lib/gpu-node-setup/journal.json"
gns() { "$GNS_BIN" --root "$root" "$@"; }
run_status() { local status=0; gns "$@" > "$SCRATCH/out" 2>&1 || status=$?; echo "$status"; }
calls() { [ -f "$root/initramfs-calls" ] && wc -l < "$root/initramfs-calls" || echo 0; }

# plan: says a reboot would be needed and that runtime waits for it; exit 0, nothing written.
[ "$(run_status plan --runtime docker --no-restart)" = 0 ] || fail "plan: $(cat "$SCRATCH/out")"
grep -q '^a reboot would be needed: nouveau: nouveau is loaded' "$SCRATCH/out" || fail "plan lacks the reboot: $(cat "$SCRATCH/out")"
grep -qx 'runtime: deferred until after the reboot' "$SCRATCH/out" || fail "plan does not defer runtime: $(cat "$SCRATCH/out")"
grep -qx 'toolkit: deferred until after the reboot' "$SCRATCH/out" || fail "plan does not defer toolkit: $(cat "$SCRATCH/out")"
grep -qx 'driver: deferred until after the reboot' "$SCRATCH/out" || fail "plan does not defer driver: $(cat "$SCRATCH/out")"
[ ! -e "$blacklist" ] && [ ! -e "$root/run/reboot-required" ] || fail "plan wrote files"

# apply with nouveau loaded: exit 7, blacklist + initramfs, runtime deferred.
status=$(run_status apply --runtime docker --no-restart)
[ "$status" = 7 ] || fail "apply with nouveau loaded: exit $status, want 7: $(cat "$SCRATCH/out")"
grep -qx 'blacklist nouveau' "$blacklist" || fail "no blacklist line in $blacklist"
grep -qx 'options nouveau modeset=0' "$blacklist" || fail "no modeset=0 in $blacklist"
[ "$(cat "$root/initramfs-calls")" = "update-initramfs -u -k all" ] || fail "initramfs calls: $(cat "$root/initramfs-calls")"
[ "$(sha256sum < "$root/etc/docker/daemon.json")" = "$daemon_sha" ] || fail "runtime was configured before the reboot"
[ "$(cat "$root/run/reboot-required")" = '*** System restart required ***' ] || fail "no /run/reboot-required"
grep -qx gpu-node-setup "$root/run/reboot-required.pkgs" || fail "no /run/reboot-required.pkgs entry"
[ "$(jq -c '.pending_reboot | [.stage, .deferred]' "$journal")" = '["nouveau",["driver","toolkit","runtime"]]' ] \
  || fail "journal's pending reboot: $(jq -c .pending_reboot "$journal")"
grep -q 'Reboot this host, then run `gpu-node-setup apply` again to finish: driver, toolkit, runtime' "$SCRATCH/out" \
  || fail "apply does not say what to do: $(cat "$SCRATCH/out")"

# status says what waits for the reboot, in text and JSON.
[ "$(run_status status --runtime docker)" = 0 ] || fail "status: $(cat "$SCRATCH/out")"
grep -q '^reboot required (since .*): nouveau: nouveau is loaded' "$SCRATCH/out" || fail "status lacks the reboot: $(cat "$SCRATCH/out")"
grep -qx 'after it, `gpu-node-setup apply` finishes: driver, toolkit, runtime' "$SCRATCH/out" || fail "status lacks the deferred stages: $(cat "$SCRATCH/out")"
gns status --runtime docker --json > "$SCRATCH/status.json" || fail "status --json failed"
[ "$(jq -c '.pending_reboot | [.stage, .deferred]' "$SCRATCH/status.json")" = '["nouveau",["driver","toolkit","runtime"]]' ] \
  || fail "status --json: $(cat "$SCRATCH/status.json")"

# Again before the reboot: still 7, nothing rebuilt, nothing configured.
status=$(run_status apply --runtime docker --no-restart)
[ "$status" = 7 ] || fail "second apply before the reboot: exit $status, want 7"
[ "$(calls)" = 1 ] || fail "the initramfs was rebuilt again before the reboot"
[ "$(sha256sum < "$root/etc/docker/daemon.json")" = "$daemon_sha" ] || fail "runtime configured before the reboot"

# --reboot: the same, and then `systemctl reboot` inside the root (a recording stand-in here).
mkdir -p "$root/usr/bin"
cat > "$root/usr/bin/systemctl" <<'SCRIPT'
#!/bin/sh
echo "systemctl $*" >> /systemctl-calls
SCRIPT
chmod 755 "$root/usr/bin/systemctl"
status=$(run_status apply --runtime docker --no-restart --reboot)
[ "$status" = 7 ] || fail "apply --reboot: exit $status, want 7: $(cat "$SCRATCH/out")"
[ "$(cat "$root/systemctl-calls")" = "systemctl reboot" ] || fail "apply --reboot did not reboot: $(cat "$root/systemctl-calls" 2>&1)"
grep -q '^Rebooting now (--reboot)' "$SCRATCH/out" || fail "apply --reboot does not say so: $(cat "$SCRATCH/out")"
rm "$root/usr/bin/systemctl" "$root/systemctl-calls"

# The reboot: nouveau stays out, /run is a fresh tmpfs.
rm -rf "$root/sys/module/nouveau" "$root/run/reboot-required" "$root/run/reboot-required.pkgs"
status=$(run_status apply --runtime docker --no-restart)
[ "$status" = 0 ] || fail "apply after the reboot: exit $status: $(cat "$SCRATCH/out")"
[ "$(jq -r '.runtimes.nvidia.path + " " + ."default-runtime"' "$root/etc/docker/daemon.json")" = \
  "/usr/bin/nvidia-container-runtime nvidia" ] || fail "runtime not configured after the reboot"
[ "$(jq 'has("pending_reboot")' "$journal")" = false ] || fail "the journal still waits for a reboot"
gns status --runtime docker --json > "$SCRATCH/status.json" || fail "status --json failed"
[ "$(jq -c '.pending_reboot' "$SCRATCH/status.json")" = null ] || fail "status still shows a reboot: $(cat "$SCRATCH/status.json")"
[ ! -e "$root/run/reboot-required" ] || fail "reboot-required written again"
[ "$(calls)" = 1 ] || fail "the initramfs was rebuilt after the reboot"

[ "$(run_status apply --runtime docker --no-restart)" = 0 ] || fail "third apply failed"
[ "$(grep -c ': nothing to do$' "$SCRATCH/out")" = 4 ] || fail "third apply did something: $(cat "$SCRATCH/out")"

# Revert: every file as before; the initramfs rebuilt without our blacklist.
[ "$(run_status revert)" = 0 ] || fail "revert: $(cat "$SCRATCH/out")"
[ ! -e "$blacklist" ] || fail "revert left $blacklist"
[ "$(sha256sum < "$root/etc/docker/daemon.json")" = "$daemon_sha" ] || fail "revert did not restore daemon.json"
[ "$(calls)" = 2 ] || fail "revert did not rebuild the initramfs ($(calls) calls)"
echo "ok"
