#!/usr/bin/env bash
# `configure --runtime=docker` on every real daemon.json of the shared corpus
# (../shared/fixtures/runtime-configs: docker--*, edge--docker-*), each in a root of its own, with
# the real binary. For each file:
#   - the expected outcome below holds: configured (exit 0), already configured ("nothing to
#     do", not rewritten) or refused (exit 5, path:line:column, the file byte for byte as it was,
#     no journal); the refusals are exactly the broken files SOURCES.md lists;
#   - the result is valid JSON without duplicate keys, and jq sees it as the input plus exactly
#     runtimes.nvidia (path /usr/bin/nvidia-container-runtime) and default-runtime "nvidia":
#     with those two removed on both sides (and a `runtimes` left empty by that), the documents
#     are equal; and runtimes.nvidia is exactly the template's entry for a file that had none,
#     the user's entry untouched when its path already is ours, else the user's entry with our
#     path set and the template's members it lacked added: every member of theirs
#     (runtimeArgs above all) keeps its value;
#   - a second configure changes nothing (same sha256 of the file and of the journal);
#   - revert restores the original bytes.
source "$(dirname "$0")/lib.sh"
require_tool jq python3 sha256sum
corpus="$GNS_SHARED_FIXTURES/runtime-configs"
require_dir "$corpus"

# Expected outcome of each file not simply "changed", one reason each.
declare -A expect=(
  [edge--docker-nvidia-docker-pr1110-broken-path-quote.json]="refuse 5 # stray quote inside the path string: not JSON"
  [edge--docker-404xiaochaochao-crlf-trailing-comma-graph.json]="refuse 5 # trailing comma after the last member: not JSON (dockerd refuses it too)"
  [edge--docker-falenn-awsk8s-anonymous-object.json.tpl]="refuse 5 # an anonymous object inside the top-level object: not JSON"
  [docker--nvidia-k8s-device-plugin-readme-default-runtime.json]="unchanged # nvidia with our absolute path is already the default"
  # Relative "nvidia-container-runtime" paths (nvidia-docker2's) get the absolute one in place:
  # a change inside runtimes.nvidia, so they are "changed".
)

files=("$corpus"/docker--* "$corpus"/edge--docker-*)
[ "${#files[@]}" -ge 20 ] || fail "only ${#files[@]} docker files in $corpus"
for name in "${!expect[@]}"; do
  [ -e "$corpus/$name" ] || fail "expectation for $name, which is not in the corpus"
done

# The entry our stock template renders (the binary reads the source tree's templates).
source_dir=${GNS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
template=$(sed 's#{{runtime_path}}#/usr/bin/nvidia-container-runtime#g; s#{{runtime_name}}#nvidia#g' \
  "$source_dir/templates/docker/runtime.json" | jq -c .) || fail "cannot render the docker template"

# normal FILE: the document without what we own, sorted: runtimes.nvidia, default-runtime, and
# a runtimes object left empty by that.
normal() {
  jq -S 'del(.runtimes.nvidia, ."default-runtime")
    | if .runtimes == {} then del(.runtimes) else . end' "$1"
}

failures=0
start=$SECONDS
for file in "${files[@]}"; do
  name=$(basename "$file")
  expectation=${expect[$name]:-changed}
  expectation=${expectation%% #*}
  dir="$SCRATCH/$name" root="$SCRATCH/$name/root"
  config="$root/etc/docker/daemon.json" journal="$root/var/lib/gpu-node-setup/journal.json"
  problems=0
  bad() { echo "FAIL: $name: $*" >&2; problems=$((problems + 1)); }
  mkdir -p "$root/etc/docker"
  cp "$file" "$config"
  cp "$file" "$dir/original"
  sha0=$(sha256sum < "$config")
  status=0
  "$GNS_BIN" --root "$root" configure --runtime=docker --no-restart > "$dir/out" 2> "$dir/err" || status=$?

  if [[ "$expectation" == refuse* ]]; then
    want=${expectation#refuse }
    [ "$status" = "$want" ] || bad "expected a refusal with exit $want, got exit $status: $(head -c 300 "$dir/err")"
    [ "$(sha256sum < "$config")" = "$sha0" ] || bad "a refused file was changed"
    [ ! -e "$journal" ] || bad "a refused run wrote a journal"
    grep -q '/etc/docker/daemon.json:[0-9]*:[0-9]*: ' "$dir/err" \
      || bad "the refusal does not name path:line:column: $(cat "$dir/err")"
    failures=$((failures + problems))
    continue
  fi
  if [ "$status" != 0 ]; then
    bad "configure exited $status: $(head -c 400 "$dir/err")"
    failures=$((failures + problems))
    continue
  fi
  sha1=$(sha256sum < "$config")
  jsha1=$({ sha256sum < "$journal"; } 2> /dev/null || echo none)
  if [ "$expectation" = unchanged ]; then
    grep -q "nothing to do" "$dir/out" || bad "expected 'nothing to do': $(head -3 "$dir/out")"
    [ "$sha1" = "$sha0" ] || bad "an already configured file was rewritten"
  else
    [ "$sha1" != "$sha0" ] || bad "configure left the file as it was: $(head -3 "$dir/out")"
  fi

  # Valid JSON, no key twice in one object (jq and dockerd would both silently take the last).
  python3 -c '
import json, sys
def pairs(items):
    keys = [k for k, _ in items]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        sys.exit("duplicate keys: " + ", ".join(sorted(dup)))
    return dict(items)
json.load(open(sys.argv[1], encoding="utf-8"), object_pairs_hook=pairs)' "$config" 2> "$dir/json.err" \
    || bad "the result is not clean JSON: $(tail -1 "$dir/json.err")"
  # Semantic diff: the input plus exactly runtimes.nvidia and default-runtime.
  if ! diff <(normal "$dir/original") <(normal "$config") > "$dir/semantic.diff"; then
    bad "settings other than runtimes.nvidia and default-runtime differ: $(head -8 "$dir/semantic.diff" | tr '\n' ' ')"
  fi
  [ "$(jq -r '.runtimes.nvidia.path' "$config")" = /usr/bin/nvidia-container-runtime ] \
    || bad "runtimes.nvidia.path is $(jq -c '.runtimes.nvidia.path' "$config")"
  [ "$(jq -r '."default-runtime"' "$config")" = nvidia ] \
    || bad "default-runtime is $(jq -c '."default-runtime"' "$config")"
  # The entry: the user's, kept when its path is ours; else the template's members, the user's
  # over them, our path over both.
  wanted=$(jq -c --argjson t "$template" --arg p /usr/bin/nvidia-container-runtime \
    '.runtimes.nvidia as $u | if $u.path == $p then $u else $t + ($u // {}) + {path: $p} end' \
    "$dir/original")
  jq -e --argjson w "$wanted" '.runtimes.nvidia == $w' "$config" > /dev/null \
    || bad "runtimes.nvidia is $(jq -c '.runtimes.nvidia' "$config"), not $wanted"

  # A second run changes nothing.
  status2=0
  "$GNS_BIN" --root "$root" configure --runtime=docker --no-restart > "$dir/again" 2>&1 || status2=$?
  [ "$status2" = 0 ] || bad "second configure exited $status2: $(head -c 300 "$dir/again")"
  grep -q "nothing to do" "$dir/again" || bad "second configure did something: $(head -3 "$dir/again")"
  [ "$(sha256sum < "$config")" = "$sha1" ] || bad "second configure rewrote daemon.json"
  [ "$({ sha256sum < "$journal"; } 2> /dev/null || echo none)" = "$jsha1" ] || bad "second configure rewrote the journal"

  # Revert: the original bytes.
  status3=0
  "$GNS_BIN" --root "$root" revert > "$dir/revert" 2>&1 || status3=$?
  [ "$status3" = 0 ] || bad "revert exited $status3: $(head -c 300 "$dir/revert")"
  [ "$(sha256sum < "$config")" = "$sha0" ] || bad "revert did not restore the original bytes"
  failures=$((failures + problems))
done
[ "$failures" -eq 0 ] || fail "$failures problem(s) in ${#files[@]} daemon.json files"
echo "${#files[@]} daemon.json files: outcomes as expected, only runtimes.nvidia and default-runtime added, reverts exact ($((SECONDS - start)) s)"
