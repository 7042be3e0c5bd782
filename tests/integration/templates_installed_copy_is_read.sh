#!/usr/bin/env bash
# `cmake --install` puts the binary in <prefix>/sbin and the templates in
# <prefix>/share/gpu-node-setup/templates, and the installed binary reads that copy (found from
# /proc/self/exe, also when run through a symlink elsewhere), not the source tree's: a change
# to the installed docker template shows in `configure --dry-run`, and not in the build tree's.
source "$(dirname "$0")/lib.sh"
require_tool cmake grep

# The build tree is the directory above the binary that holds CMakeCache.txt.
build=$(dirname "$GNS_BIN")
while [ "$build" != / ] && [ ! -f "$build/CMakeCache.txt" ]; do build=$(dirname "$build"); done
[ -f "$build/CMakeCache.txt" ] || skip "no CMake build tree above $GNS_BIN"

prefix="$SCRATCH/prefix"
cmake --install "$build" --prefix "$prefix" > "$SCRATCH/install.log" 2>&1 \
  || fail "cmake --install: $(cat "$SCRATCH/install.log")"
bin="$prefix/sbin/gpu-node-setup"
template="$prefix/share/gpu-node-setup/templates/docker/runtime.json"
[ -x "$bin" ] || fail "no $bin"
[ -f "$template" ] || fail "no $template"
[ -f "$prefix/share/gpu-node-setup/templates/crio/99-nvidia.conf" ] || fail "crio template not installed"

root="$SCRATCH/root"
mkdir -p "$root"
plan() { "$1" --root "$root" configure --runtime=docker --dry-run 2>&1; }
plan "$bin" > "$SCRATCH/stock" || fail "stock: $(cat "$SCRATCH/stock")"
grep -q '"args": \[\]' "$SCRATCH/stock" || fail "stock entry: $(cat "$SCRATCH/stock")"

printf '{"path": "{{runtime_path}}", "runtimeArgs": ["--installed-copy"]}\n' > "$template"
plan "$bin" > "$SCRATCH/changed" || fail "changed: $(cat "$SCRATCH/changed")"
grep -q -- '--installed-copy' "$SCRATCH/changed" || fail "installed template not read: $(cat "$SCRATCH/changed")"
mkdir -p "$SCRATCH/elsewhere/bin"
ln -s "$bin" "$SCRATCH/elsewhere/bin/gpu-node-setup"
plan "$SCRATCH/elsewhere/bin/gpu-node-setup" > "$SCRATCH/linked" || fail "linked: $(cat "$SCRATCH/linked")"
grep -q -- '--installed-copy' "$SCRATCH/linked" || fail "through a symlink: $(cat "$SCRATCH/linked")"
plan "$GNS_BIN" > "$SCRATCH/build" || fail "build tree: $(cat "$SCRATCH/build")"
grep -q -- '--installed-copy' "$SCRATCH/build" && fail "the build tree's binary read the installed copy"
[ -z "$(find "$root" -mindepth 1 ! -path "$root/run" ! -path "$root/run/gpu-node-setup.lock")" ] \
  || fail "--dry-run wrote under the root: $(find "$root")"
echo "the installed binary reads its installed templates"
