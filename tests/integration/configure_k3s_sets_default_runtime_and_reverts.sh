#!/usr/bin/env bash
# `configure --runtime=k3s` on a root laid out like a k3s node whose generated containerd config
# imports no drop-in directory, with a config.toml.tmpl of the user's and a config.yaml.d file:
# --dry-run (and `plan`) print the config.yaml diff and the notes (k3s finds the runtime
# itself; the user's template is left alone; a later file sets another default) and write
# nothing; configure appends default-runtime to config.yaml and nothing else (PyYAML reads the
# same keys plus default-runtime: nvidia); status says applied; a second configure writes
# nothing (the journal keeps its bytes); revert gives every file its sha256 back.
source "$(dirname "$0")/lib.sh"
require_tool python3 sha256sum cmp
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
corpus="$GNS_SHARED_FIXTURES/runtime-configs"
user_yaml="$corpus/k3syaml--gdm257-k3s-config.yaml.d-master.yaml"
user_tmpl="$corpus/k3stmpl--v-wan-k3d-gpu-nvidia-default.toml.tmpl"
generated_fixture="$GNS_TEST_FIXTURES/k3s/generated-v2-no-imports.toml"
for f in "$user_yaml" "$user_tmpl" "$generated_fixture"; do [ -f "$f" ] || skip "fixture $f is missing"; done

root="$SCRATCH/root"
containerd_dir="$root/var/lib/rancher/k3s/agent/etc/containerd"
config="$root/etc/rancher/k3s/config.yaml"
mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/etc/rancher/k3s/config.yaml.d" "$containerd_dir"
printf '#!/bin/sh\n' > "$root/usr/local/bin/k3s"
printf '#!/bin/sh\n' > "$root/usr/bin/nvidia-container-runtime"
chmod 755 "$root/usr/local/bin/k3s" "$root/usr/bin/nvidia-container-runtime"
cp "$user_yaml" "$config"
cp "$user_tmpl" "$containerd_dir/config.toml.tmpl"
cp "$generated_fixture" "$containerd_dir/config.toml"
printf 'default-runtime: crun\n' > "$root/etc/rancher/k3s/config.yaml.d/90-site.yaml"
shas() { (cd "$root" && find . -type f ! -path './run/*' -print0 | sort -z | xargs -0 sha256sum); }
before=$(shas)

for how in "configure --runtime=k3s --dry-run" "plan --stages runtime"; do
  # shellcheck disable=SC2086
  "$GNS_BIN" --root "$root" $how > "$SCRATCH/dry" 2>&1 || fail "$how: $(cat "$SCRATCH/dry")"
  # One file modified, none created (the counts' wording is render_plan's: match loosely).
  grep -Eq '^runtime: .*modify[: ]1' "$SCRATCH/dry" && ! grep -Eq '^runtime: .*create[: ][1-9]' "$SCRATCH/dry" \
    || fail "$how counts: $(cat "$SCRATCH/dry")"
  grep -qx '+default-runtime: nvidia' "$SCRATCH/dry" || fail "$how: no diff line: $(cat "$SCRATCH/dry")"
  grep -q '^note: k3s adds runtime nvidia (/usr/bin/nvidia-container-runtime) to its containerd config by itself' \
    "$SCRATCH/dry" || fail "$how: no auto-detection note: $(cat "$SCRATCH/dry")"
  grep -q '^note: /var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl replaces k3s' "$SCRATCH/dry" \
    || fail "$how: no template note: $(cat "$SCRATCH/dry")"
  grep -q '^note: /etc/rancher/k3s/config.yaml.d/90-site.yaml is read after /etc/rancher/k3s/config.yaml and sets default-runtime: crun' \
    "$SCRATCH/dry" || fail "$how: no override note: $(cat "$SCRATCH/dry")"
  [ "$(shas)" = "$before" ] || fail "$how changed files"
  [ ! -e "$root/var/lib/gpu-node-setup" ] || fail "$how wrote a journal"
done

"$GNS_BIN" --root "$root" configure --runtime=k3s > "$SCRATCH/out" 2>&1 || fail "configure: $(cat "$SCRATCH/out")"
# Every byte of the user's file is still there, first; then PyYAML reads the same keys and ours.
head -c "$(stat -c %s "$user_yaml")" "$config" | cmp -s - "$user_yaml" || fail "the user's bytes changed"
python3 - "$user_yaml" "$config" <<'EOF' || fail "config.yaml does not mean what it should"
import sys, yaml
before = yaml.safe_load(open(sys.argv[1], 'rb'))
after = yaml.safe_load(open(sys.argv[2], 'rb'))
assert after.pop('default-runtime') == 'nvidia', after
assert after == before, (before, after)
EOF
cmp -s "$user_tmpl" "$containerd_dir/config.toml.tmpl" || fail "the user's template changed"
[ ! -e "$containerd_dir/config.toml.d" ] || fail "a drop-in was written though nothing imports it"

"$GNS_BIN" --root "$root" status --stages runtime > "$SCRATCH/status" 2>&1 || fail "status: $(cat "$SCRATCH/status")"
grep -q '^runtime  *applied  *k3s (/etc/rancher/k3s/config.yaml)' "$SCRATCH/status" || fail "status: $(cat "$SCRATCH/status")"

journal=$(sha256sum < "$root/var/lib/gpu-node-setup/journal.json")
configured=$(sha256sum < "$config")
"$GNS_BIN" --root "$root" configure --runtime=k3s > "$SCRATCH/again" 2>&1 || fail "second configure: $(cat "$SCRATCH/again")"
grep -q '^runtime: nothing to do$' "$SCRATCH/again" || fail "second configure: $(cat "$SCRATCH/again")"
[ "$(sha256sum < "$root/var/lib/gpu-node-setup/journal.json")" = "$journal" ] || fail "second configure rewrote the journal"
[ "$(sha256sum < "$config")" = "$configured" ] || fail "second configure rewrote config.yaml"

"$GNS_BIN" --root "$root" revert --stages runtime > "$SCRATCH/revert" 2>&1 || fail "revert: $(cat "$SCRATCH/revert")"
after=$(shas | grep -v '/var/lib/gpu-node-setup/')
[ "$after" = "$before" ] || fail "revert did not restore every file: $(diff <(echo "$before") <(echo "$after"))"
echo "configure --runtime=k3s sets default-runtime in config.yaml alone, and reverts byte for byte"
