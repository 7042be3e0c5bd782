#!/usr/bin/env bash
# A site template (--templates DIR) that renders invalid TOML (CRI-O's drop-in) or invalid JSON
# (Docker's runtime entry) is refused at the template's own path:line (exit 5), and nothing is
# written under the root: no drop-in, no daemon.json, no journal, no backup, and the user's
# files keep their bytes. Only the run lock, which every mutating run takes first, appears.
source "$(dirname "$0")/lib.sh"
require_tool sha256sum find

root="$SCRATCH/root"
site="$SCRATCH/site"
mkdir -p "$root/etc/crio/crio.conf.d" "$root/etc/docker" "$site/crio" "$site/docker"
printf '[crio.runtime]\ndefault_runtime = "crun"\n' > "$root/etc/crio/crio.conf"
printf '{\n  "log-driver": "journald"\n}\n' > "$root/etc/docker/daemon.json"
# Line 4 renders to `runtime_type = oci`: a bare word, not a TOML value.
printf '# a site'"'"'s drop-in\n[crio.runtime.runtimes.{{runtime_name}}]\nruntime_path = "{{runtime_path}}"\nruntime_type = oci\n' \
  > "$site/crio/99-nvidia.conf"
# Line 3 lacks the comma after the path.
printf '{\n  "path": "{{runtime_path}}"\n  "runtimeArgs": []\n}\n' > "$site/docker/runtime.json"

# Every file under the root but the run lock (and /run, made for it), with its hash.
snapshot() {
  (cd "$root" && find . \( -path ./run -o -path ./run/gpu-node-setup.lock \) -prune -o -print | sort \
    | while read -r f; do [ -f "$f" ] && sha256sum "$f" || echo "$f"; done)
}
before=$(snapshot)

refused_at() {  # RUNTIME WHERE: configure is refused with exit 5 at WHERE, nothing written
  local runtime=$1 where=$2 status=0
  "$GNS_BIN" --root "$root" configure --runtime="$runtime" --templates "$site" \
    > "$SCRATCH/$runtime.out" 2>&1 || status=$?
  [ "$status" -eq 5 ] || fail "$runtime: exit $status: $(cat "$SCRATCH/$runtime.out")"
  grep -qF "error: $where" "$SCRATCH/$runtime.out" \
    || fail "$runtime: the error does not name $where: $(cat "$SCRATCH/$runtime.out")"
  [ "$(snapshot)" = "$before" ] || fail "$runtime: files under the root changed:
$(diff <(echo "$before") <(snapshot))"
}

refused_at crio "$site/crio/99-nvidia.conf:4:"
grep -q "renders to invalid TOML" "$SCRATCH/crio.out" || fail "crio: $(cat "$SCRATCH/crio.out")"
refused_at docker "$site/docker/runtime.json:3:"
grep -q "renders to invalid JSON" "$SCRATCH/docker.out" || fail "docker: $(cat "$SCRATCH/docker.out")"

# The same site with its templates mended is accepted: it was the template, not the host.
printf '[crio.runtime.runtimes.{{runtime_name}}]\nruntime_path = "{{runtime_path}}"\n' \
  > "$site/crio/99-nvidia.conf"
printf '{{#set_as_default}}\n[crio.runtime]\ndefault_runtime = "{{runtime_name}}"\n{{/set_as_default}}\n' \
  >> "$site/crio/99-nvidia.conf"
"$GNS_BIN" --root "$root" configure --runtime=crio --templates "$site" > "$SCRATCH/fixed" 2>&1 \
  || fail "mended template: $(cat "$SCRATCH/fixed")"
[ -f "$root/etc/crio/crio.conf.d/99-nvidia.conf" ] || fail "mended template: no drop-in"
echo "a site template rendering invalid TOML or JSON is refused at its line; nothing is written"
