#!/usr/bin/env bash
# Every real k3s/RKE2 config.yaml of ../shared/fixtures/runtime-configs (k3syaml--*), as
# published, with CRLF line endings and without its final newline, configured by the real
# binary under a temp root: the original bytes stay first and unchanged, PyYAML reads the same
# keys plus default-runtime: nvidia, a second configure writes nothing, revert gives the
# original sha256 back. Then config.yaml files libyaml or we refuse (tab indentation, an
# unclosed quote, a duplicate %YAML directive, bad indentation, a top-level list, a flow
# mapping, a second document, default-runtime given twice) exit 5 with their path:line:col,
# and nothing is written.
source "$(dirname "$0")/lib.sh"
require_tool python3 sha256sum cmp
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
corpus="$GNS_SHARED_FIXTURES/runtime-configs"
require_dir "$corpus"

# new_root NAME: a k3s node root with no config.yaml yet.
new_root() {
  local root="$SCRATCH/$1"
  mkdir -p "$root/usr/local/bin" "$root/etc/rancher/k3s"
  printf '#!/bin/sh\n' > "$root/usr/local/bin/k3s"
  chmod 755 "$root/usr/local/bin/k3s"
  echo "$root"
}

checked=0
for fixture in "$corpus"/k3syaml--*; do
  name=$(basename "$fixture")
  for form in as-published crlf no-eol; do
    root=$(new_root "$name-$form")
    config="$root/etc/rancher/k3s/config.yaml"
    case $form in
      as-published) cp "$fixture" "$config" ;;
      crlf) sed 's/$/\r/' "$fixture" > "$config" ;;
      no-eol) python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(d.rstrip(b"\n"))' "$fixture" "$config" ;;
    esac
    cp "$config" "$SCRATCH/original"
    original=$(sha256sum < "$config")
    "$GNS_BIN" --root "$root" configure --runtime=k3s > "$SCRATCH/out" 2>&1 || fail "$name ($form): $(cat "$SCRATCH/out")"
    head -c "$(stat -c %s "$SCRATCH/original")" "$config" | cmp -s - "$SCRATCH/original" \
      || fail "$name ($form): the original bytes changed"
    python3 - "$SCRATCH/original" "$config" "$form" <<'EOF' || fail "$name ($form): $(cat "$config")"
import sys, yaml
before = yaml.safe_load(open(sys.argv[1], 'rb'))
data = open(sys.argv[2], 'rb').read()
after = yaml.safe_load(data)
assert after.pop('default-runtime') == 'nvidia', after
assert after == before, (before, after)
if sys.argv[3] == 'crlf':
    assert data.count(b'\n') == data.count(b'\r\n'), 'a bare LF in a CRLF file'
if sys.argv[3] == 'no-eol':
    assert not data.endswith(b'\n'), 'a final newline appeared'
EOF
    configured=$(sha256sum < "$config")
    "$GNS_BIN" --root "$root" configure --runtime=k3s > "$SCRATCH/again" 2>&1 || fail "$name ($form) again: $(cat "$SCRATCH/again")"
    grep -q '^runtime: nothing to do$' "$SCRATCH/again" || fail "$name ($form) second configure: $(cat "$SCRATCH/again")"
    [ "$(sha256sum < "$config")" = "$configured" ] || fail "$name ($form): second configure rewrote it"
    "$GNS_BIN" --root "$root" revert --stages runtime > "$SCRATCH/revert" 2>&1 || fail "$name ($form) revert: $(cat "$SCRATCH/revert")"
    [ "$(sha256sum < "$config")" = "$original" ] || fail "$name ($form): revert did not restore the bytes"
    checked=$((checked + 1))
  done
done
[ "$checked" -ge 18 ] || fail "only $checked corpus files were checked"

# refuse NAME WHERE TEXT: config.yaml TEXT is refused with exit 5 at WHERE (line:col), untouched.
refuse() {
  local root config status=0
  root=$(new_root "malformed-$1")
  config="$root/etc/rancher/k3s/config.yaml"
  printf '%b' "$3" > "$config"
  cp "$config" "$SCRATCH/malformed"
  "$GNS_BIN" --root "$root" configure --runtime=k3s > "$SCRATCH/out" 2>&1 || status=$?
  [ "$status" -eq 5 ] || fail "$1: exit $status: $(cat "$SCRATCH/out")"
  grep -q "/etc/rancher/k3s/config.yaml:$2: " "$SCRATCH/out" || fail "$1: not at $2: $(cat "$SCRATCH/out")"
  cmp -s "$config" "$SCRATCH/malformed" || fail "$1: config.yaml was changed"
  [ ! -e "$root/var/lib/gpu-node-setup/journal.json" ] || fail "$1: a journal was written"
}
refuse tab-indentation 2:1 'disable:\n\t- traefik\n'
refuse unclosed-quote 3:1 'write-kubeconfig-mode: "0644\ntls-san: x\n'
refuse duplicate-directive 2:1 '%YAML 1.1\n%YAML 1.1\n---\ndebug: true\n'
refuse bad-indentation 2:9 'debug: true\n tls-san: x\n'
refuse top-level-list 1:1 '- traefik\n- servicelb\n'
refuse flow-mapping 1:1 '{cluster-init: true, debug: true}\n'
refuse two-documents 2:1 'debug: true\n---\ntls-san: x\n'
refuse duplicate-default 3:1 'debug: true\ndefault-runtime: runc\ndefault-runtime: crun\n'
echo "k3s config.yaml corpus: $checked files configured, read back by PyYAML and reverted; malformed ones refused"
