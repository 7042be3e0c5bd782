#!/usr/bin/env bash
# --templates DIR overrides template by template: a site directory holding only Docker's
# runtime entry changes what daemon.json gets, while CRI-O's drop-in still comes from the
# installed template, byte for byte what a run without --templates writes. A second run with
# the same site has nothing to do.
source "$(dirname "$0")/lib.sh"
require_tool grep cmp

site="$SCRATCH/site"
mkdir -p "$site/docker"
printf '{\n  "path": "{{runtime_path}}",\n  "runtimeArgs": ["--log-prefix={{runtime_name}}"]\n}\n' \
  > "$site/docker/runtime.json"

docker_root="$SCRATCH/docker"
mkdir -p "$docker_root"
"$GNS_BIN" --root "$docker_root" configure --runtime=docker --runtime-name gpu \
  --templates "$site" > "$SCRATCH/docker.out" 2>&1 || fail "docker: $(cat "$SCRATCH/docker.out")"
daemon="$docker_root/etc/docker/daemon.json"
grep -qF '"runtimeArgs": ["--log-prefix=gpu"]' "$daemon" || fail "site entry missing: $(cat "$daemon")"
grep -q '"args"' "$daemon" && fail "the stock entry was written: $(cat "$daemon")"
"$GNS_BIN" --root "$docker_root" configure --runtime=docker --runtime-name gpu \
  --templates "$site" > "$SCRATCH/again" 2>&1 || fail "again: $(cat "$SCRATCH/again")"
grep -q "nothing to do" "$SCRATCH/again" || fail "second run: $(cat "$SCRATCH/again")"

# The site has no crio/ template: the installed one is used.
for name in site stock; do
  mkdir -p "$SCRATCH/crio-$name/etc/crio"
  printf '[crio.runtime.runtimes.runc]\nmonitor_path = "/usr/libexec/crio/conmon"\n' \
    > "$SCRATCH/crio-$name/etc/crio/crio.conf"
done
"$GNS_BIN" --root "$SCRATCH/crio-site" configure --runtime=crio --templates "$site" \
  > "$SCRATCH/crio.out" 2>&1 || fail "crio with the site: $(cat "$SCRATCH/crio.out")"
"$GNS_BIN" --root "$SCRATCH/crio-stock" configure --runtime=crio > "$SCRATCH/crio.out" 2>&1 \
  || fail "crio: $(cat "$SCRATCH/crio.out")"
cmp "$SCRATCH/crio-site/etc/crio/crio.conf.d/99-nvidia.conf" \
  "$SCRATCH/crio-stock/etc/crio/crio.conf.d/99-nvidia.conf" \
  || fail "a site without crio/ changed the CRI-O drop-in"

# A site directory that is not there is an error, not a quiet fall back.
status=0
"$GNS_BIN" --root "$docker_root" configure --runtime=docker --templates "$SCRATCH/nope" \
  > "$SCRATCH/missing" 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "missing site dir: exit $status: $(cat "$SCRATCH/missing")"
grep -qF "$SCRATCH/nope" "$SCRATCH/missing" || fail "missing site dir: $(cat "$SCRATCH/missing")"
echo "--templates overrides per file and falls back to the installed templates"
