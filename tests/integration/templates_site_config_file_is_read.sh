#!/usr/bin/env bash
# The site config file /etc/gpu-node-setup/config.toml under --root names the site's templates
# as a host path under that root; --templates (a path on this machine) wins over it; a key the
# file does not know is refused at its line and column (exit 5) before anything is written.
source "$(dirname "$0")/lib.sh"
require_tool grep

root="$SCRATCH/root"
mkdir -p "$root/etc/gpu-node-setup" "$root/srv/gns/docker" "$SCRATCH/flag/docker"
printf '# this site\ntemplates = "/srv/gns"\n' > "$root/etc/gpu-node-setup/config.toml"
printf '{"path": "{{runtime_path}}", "runtimeArgs": ["--from-config-file"]}\n' \
  > "$root/srv/gns/docker/runtime.json"
printf '{"path": "{{runtime_path}}", "runtimeArgs": ["--from-flag"]}\n' \
  > "$SCRATCH/flag/docker/runtime.json"
# The same relative path on this machine must not be what is read.
[ ! -e /srv/gns/docker/runtime.json ] || skip "/srv/gns/docker/runtime.json exists on this machine"

plan() { "$GNS_BIN" --root "$root" configure --runtime=docker --dry-run "$@"; }
plan > "$SCRATCH/file" 2>&1 || fail "config file: $(cat "$SCRATCH/file")"
grep -q -- '--from-config-file' "$SCRATCH/file" || fail "config file not used: $(cat "$SCRATCH/file")"
plan --templates "$SCRATCH/flag" > "$SCRATCH/flag.out" 2>&1 || fail "flag: $(cat "$SCRATCH/flag.out")"
grep -q -- '--from-flag' "$SCRATCH/flag.out" || fail "--templates did not win: $(cat "$SCRATCH/flag.out")"
grep -q -- '--from-config-file' "$SCRATCH/flag.out" && fail "config file won over --templates"

printf 'templates = "/srv/gns"\ntempaltes = "/srv/other"\n' > "$root/etc/gpu-node-setup/config.toml"
status=0
"$GNS_BIN" --root "$root" configure --runtime=docker > "$SCRATCH/typo" 2>&1 || status=$?
[ "$status" -eq 5 ] || fail "typo: exit $status: $(cat "$SCRATCH/typo")"
grep -qF '/etc/gpu-node-setup/config.toml:2:1: unknown key "tempaltes"' "$SCRATCH/typo" \
  || fail "typo: $(cat "$SCRATCH/typo")"
[ ! -e "$root/etc/docker/daemon.json" ] || fail "typo: daemon.json was written anyway"

# A broken site config never stands in the way back: revert reads no template.
printf 'templates = "/srv/gns"\n' > "$root/etc/gpu-node-setup/config.toml"
"$GNS_BIN" --root "$root" configure --runtime=docker --no-restart > "$SCRATCH/apply" 2>&1 || fail "apply: $(cat "$SCRATCH/apply")"
printf 'tempaltes = "/srv/other"\n' > "$root/etc/gpu-node-setup/config.toml"
"$GNS_BIN" --root "$root" revert > "$SCRATCH/revert" 2>&1 || fail "revert with a broken site config: $(cat "$SCRATCH/revert")"
[ ! -e "$root/etc/docker/daemon.json" ] || fail "revert left daemon.json"
echo "the site config file's templates key is read under --root; --templates wins; typos are refused; revert ignores it"
