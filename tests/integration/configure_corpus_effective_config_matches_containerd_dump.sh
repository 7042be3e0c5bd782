#!/usr/bin/env bash
# `configure --runtime=containerd` on every real containerd config.toml of the shared corpus
# (../shared/fixtures/runtime-configs: containerd--*, edge--containerd-*; template sources
# .tmpl/.j2/.gtpl and the k3stmpl--* files are out of scope), each in a root of its own, with the
# real binary. For each file:
#   - the expected outcome below holds: configured (exit 0), already configured ("nothing to
#     do", not rewritten) or refused (its exit status, the file byte for byte as it was, no
#     journal); the refusals are exactly the broken files and the traps SOURCES.md describes;
#   - a second configure changes nothing: same sha256 of the config and of the journal;
#   - Debian's containerd (`config dump`, which only loads the file) gives the same effective
#     configuration for the input and the output except the nvidia runtime's tables and the
#     `default_runtime_name` line: every differing dump line is classified by the table it is
#     in, and any other one fails naming the file, the table and the line. Every runtime of the
#     input's dump is in the output's: runc above all, which containerd 1.6 has only as a
#     default where the file defines no runtimes, and which configure then writes out (only the
#     built-in runc's zero-valued options, which runc reads as absent, may go);
#   - in the output's dump, the CRI default runs /usr/bin/nvidia-container-runtime as a runc v2
#     shim, is runtimes.nvidia (or, where nothing was to do, the runtime that was already the
#     default and ran it), and has the SystemdCgroup of the runtime that was the default;
#   - tomllib sees the same thing in the files themselves (the only check that can judge the
#     version 3/4 files, whose io.containerd.cri.v1.* tables containerd 1.6 ignores);
#   - revert restores the original bytes.
# Dumps never see the host: absolute `imports` are pointed under the file's scratch dir (the
# same rewrite for input and output, so they cancel), and `config dump` does not start a daemon;
# host paths containerd would create are checked to be still absent at the end.
source "$(dirname "$0")/lib.sh"
require_tool containerd python3 sha256sum diff awk sed xargs grep
corpus="$GNS_SHARED_FIXTURES/runtime-configs"
require_dir "$corpus"
python3 -c 'import tomllib' 2> /dev/null || skip "python3 has no tomllib (3.11+ needed)"

# Expected outcome of each file not simply "changed" (added, made the default), one reason each.
# A file that is not listed here must configure with exit 0.
declare -A expect=(
  # Broken on purpose: not TOML at all -> exit 5, path:line:column, nothing written.
  [edge--containerd-krisnova-unquoted-value.toml]="refuse 5 # 'level = debug': unquoted bare value, not TOML"
  [edge--containerd-kubuverse-v2-docs-plus-v3-default-concatenated.toml]="refuse 5 # two configs pasted together: version and the CRI table defined twice"
  # Traps: a runtime already called "nvidia" that is not ours -> exit 1, suggests --runtime-name.
  [containerd--bottlerocket-k8s-nvidia.toml]="refuse 1 # nvidia is Bottlerocket's wrapper (BinaryName nvidia-oci), not /usr/bin/nvidia-container-runtime"
  [containerd--tuttlebr-gpu-operator-written-nvidia-default.toml]="refuse 1 # nvidia is the GPU operator's /usr/local/nvidia/toolkit runtime"
  [edge--containerd-dleseigneur-append-fragment-toplevel-default-runtime.toml]="refuse 1 # nvidia is the GPU operator's /usr/local/nvidia/toolkit runtime (v1 fragment)"
  # Traps: a typed deprecated default_runtime table overrides default_runtime_name -> exit 5.
  [containerd--dream-build2020-v2-default-aliyun-pause.toml]="refuse 5 # [..containerd.default_runtime] has a runtime_type: default_runtime_name would be ignored"
  [containerd--jessfraz-dotfiles-v1-dump.toml]="refuse 5 # v1 [plugins.cri.containerd.default_runtime] with a runtime_type"
  [containerd--kind-node-image-2019-v1.toml]="refuse 5 # v1 [plugins.cri.containerd.default_runtime] with a runtime_type"
  [containerd--nvidia-ctk-tests-docker-embedded-v1-dump.toml]="refuse 5 # v1 default_runtime typed io.containerd.runtime.v1.linux"
  [containerd--tarvitz-v1-registry-auths.toml]="refuse 5 # v1 [plugins.cri.containerd.default_runtime] with a runtime_type"
  # Already configured: nvidia (ours) is the default -> "nothing to do", not rewritten.
  [containerd--aks-agentbaker-gb200-static-nvidia.toml]="unchanged # nvidia default with our binary, runc beside it"
  [containerd--eks-nodeadm-e2e-v2-nvidia-default.toml]="unchanged # nodeadm's nvidia default, no runc"
  [containerd--eks-nodeadm-e2e-migrated-v3-full-nvidia.toml]="unchanged # v3: nvidia default with our binary"
  [containerd--k3s-generated-from-v-wan-k3d-gpu-template.toml]="unchanged # quoted runtimes.\"nvidia\" key, default set before the table"
  [containerd--nvidia-k8s-device-plugin-readme-nvidia-only.toml]="unchanged # NVIDIA's README config"
  # Already configured under another name: the default runs our binary -> "nothing to do", a note.
  [containerd--aks-agentbaker-gpu-rendered.toml]="unchanged # default nvidia-container-runtime runs /usr/bin/nvidia-container-runtime with SystemdCgroup"
  # Configured, but the CRI plugin is disabled: the tool must say so (a note).
  [containerd--bottlerocket-basic.toml]="cri-disabled # disabled_plugins holds io.containerd.grpc.v1.cri"
  [containerd--idein-containerd.io-pkg-default-cri-disabled.toml]="cri-disabled # containerd.io package default: disabled_plugins = [\"cri\"]"
  [containerd--talos-system-containerd-cri-disabled-v3.toml]="cri-disabled # v3: the CRI plugins in a 20-entry disabled_plugins"
  # Our own fixture (tests/fixtures/containerd/): a runtime called nvidia that is gVisor.
  [nvidia-named-gvisor.toml]="refuse 1 # runtimes.nvidia is runsc (io.containerd.runsc.v1): not ours, never replaced"
)
files=()
for f in "$corpus"/containerd--* "$corpus"/edge--containerd-*; do
  case "$f" in *.tmpl | *.j2 | *.gtpl) continue ;; esac
  files+=("$f")
done
files+=("$GNS_TEST_FIXTURES/containerd/nvidia-named-gvisor.toml")
[ "${#files[@]}" -ge 45 ] || fail "only ${#files[@]} containerd files in $corpus"
# Every listed expectation names a file that exists.
for name in "${!expect[@]}"; do
  found=0
  for f in "${files[@]}"; do [ "$(basename "$f")" = "$name" ] && found=1; done
  [ "$found" = 1 ] || fail "expectation for $name, which is not in the corpus"
done

host_paths=(/var/lib/containerd /run/containerd /opt/containerd /etc/cni /var/lib/nri /run/nri
  /etc/cri /etc/containerd/conf.d)
absent_before=()
for p in "${host_paths[@]}"; do [ -e "$p" ] || absent_before+=("$p"); done

# The python helper: `tomlinfo.py version FILE` prints the schema version (1 when absent);
# `imports FILE` the imports, one a line; `semdiff IN OUT` every leaf that differs between
# the two files outside the nvidia runtime and default_runtime_name, as "path: before -> after".
cat > "$SCRATCH/tomlinfo.py" << 'EOF'
import json, sys, tomllib
def load(path):
    with open(path, "rb") as f:
        return tomllib.load(f)
def leaves(node, path=()):
    if isinstance(node, dict):
        if not node:
            yield path, "{}"
        for k, v in node.items():
            yield from leaves(v, path + (k,))
    elif isinstance(node, list) and node and all(isinstance(x, dict) for x in node):
        for i, v in enumerate(node):
            yield from leaves(v, path + (str(i),))
    else:
        yield path, json.dumps(node, default=str, sort_keys=True)
def ours(path):
    for i in range(len(path) - 2):
        if path[i:i + 3] == ("containerd", "runtimes", "nvidia"):
            return True
    if path[-2:] == ("containerd", "default_runtime_name"):
        return True
    # An empty parent table we may have written ([..containerd], [..runtimes]) is no setting.
    return False
def runc_added(a, b, path, value):
    # The explicit runc written where the file had no runtimes table: only its runtime_type.
    if path[-4:] != ("containerd", "runtimes", "runc", "runtime_type"):
        return False
    return value == '"io.containerd.runc.v2"' and not any(p[:len(path) - 2] == path[:-2] for p in a)
cmd = sys.argv[1]
if cmd == "version":
    print(load(sys.argv[2]).get("version", 1))
elif cmd == "imports":
    for p in load(sys.argv[2]).get("imports", []):
        print(p)
elif cmd == "semdiff":
    a = dict(leaves(load(sys.argv[2])))
    b = dict(leaves(load(sys.argv[3])))
    for path in sorted(set(a) | set(b)):
        if a.get(path) == b.get(path) or ours(path):
            continue
        if path not in a and runc_added(a, b, path, b[path]):
            continue
        # An empty table that is now a parent of ours ({} -> children) is not a change.
        if a.get(path) == "{}" and path not in b:
            continue
        if b.get(path) == "{}" and path not in a:
            continue
        print(".".join(path) + ": " + str(a.get(path, "(absent)")) + " -> " + str(b.get(path, "(absent)")))
elif cmd == "runc-added":
    # "yes" when OUT has a runc runtime that IN, which has no runtimes table, lacks.
    a, b = load(sys.argv[2]), load(sys.argv[3])
    def runtimes(doc):
        cri = {1: "cri", 2: "io.containerd.grpc.v1.cri"}.get(doc.get("version", 1), "io.containerd.cri.v1.runtime")
        return doc.get("plugins", {}).get(cri, {}).get("containerd", {}).get("runtimes")
    print("yes" if runtimes(a) is None and "runc" in (runtimes(b) or {}) else "no")
elif cmd == "get":
    node = load(sys.argv[2])
    for k in sys.argv[3:]:
        node = node.get(k, {}) if isinstance(node, dict) else {}
    print(json.dumps(node) if node != {} else "")
EOF

# annotate DUMP: each non-blank line of a `config dump` as "TABLE<tab>LINE" (trimmed). The
# top-level imports list, which containerd prints in no fixed order, is sorted.
annotate() {
  awk '{ t = $0; gsub(/^[ \t]+|[ \t]+$/, "", t) }
    t == "" { next }
    table == "" && t ~ /^imports = \[.*\]$/ {
      n = split(substr(t, 12, length(t) - 12), item, /, /)
      for (i = 2; i <= n; i++) for (j = i; j > 1 && item[j - 1] > item[j]; j--) { x = item[j]; item[j] = item[j - 1]; item[j - 1] = x }
      t = "imports = ["; for (i = 1; i <= n; i++) t = t (i > 1 ? ", " : "") item[i]; t = t "]"
    }
    t ~ /^\[\[/ { table = substr(t, 3, length(t) - 4); print table "\t" t; next }
    t ~ /^\[/ { table = substr(t, 2, length(t) - 2); print table "\t" t; next }
    { print table "\t" t }' "$1"
}

# value DUMP TABLE KEY...: the value of the first KEY present in [TABLE] of DUMP ("" if none;
# "<no table>" if there is no such table).
value() {
  local dump=$1 table=$2; shift 2
  awk -v want="$table" -v keys="$*" '
    BEGIN { n = split(keys, k, " ") }
    { t = $0; gsub(/^[ \t]+|[ \t]+$/, "", t) }
    t ~ /^\[/ { inside = (t == "[" want "]"); if (inside) seen = 1; next }
    inside { for (i = 1; i <= n; i++) if (index(t, k[i] " = ") == 1 && !(k[i] in got)) got[k[i]] = substr(t, length(k[i]) + 4) }
    END { if (!seen) { print "<no table>"; exit }
          for (i = 1; i <= n; i++) if (k[i] in got) { print got[k[i]]; exit } }' "$dump"
}

# dump_of CONFIG DIR OUT: `containerd config dump` of CONFIG, loaded as DIR/dump/config.toml
# (the same path for input and output) with its absolute imports moved under DIR/imports and,
# for a CRI-disabled file, the CRI plugin enabled again (the same edits on both sides).
dump_of() {
  local config=$1 dir=$2 out=$3 copy="$2/dump/config.toml" imp esc
  mkdir -p "$dir/dump"
  cp "$config" "$copy"
  while IFS= read -r imp; do
    case "$imp" in /*) ;; *) continue ;; esac
    mkdir -p "$dir/imports$(dirname "$imp")"
    case "$imp" in *'*'* | *'?'* | *'['*) ;; *) : > "$dir/imports$imp" ;; esac
    esc=$(printf '%s' "$imp" | sed 's/[][\.*^$#]/\\&/g')
    sed -i "s#[\"']${esc}[\"']#\"$dir/imports${imp}\"#" "$copy"
  done < <(python3 "$SCRATCH/tomlinfo.py" imports "$config" 2> /dev/null)
  # No import may still reach the host.
  if python3 "$SCRATCH/tomlinfo.py" imports "$copy" 2> /dev/null | grep '^/' | grep -v "^$dir/imports/" > "$out.err"; then
    echo "an import still points at the host" >> "$out.err"
    return 1
  fi
  if [ "${CRI_DISABLED:-0}" = 1 ]; then
    awk '/^[ \t]*disabled_plugins[ \t]*=/ { inside = 1 }
      inside { gsub(/"(io\.containerd\.grpc\.v1\.cri|cri)"[ \t]*,?[ \t]*/, ""); gsub(/,[ \t]*\]/, "]")
               if (index($0, "]")) inside = 0 }
      { print }' "$copy" > "$copy.tmp" && mv "$copy.tmp" "$copy"
  fi
  (cd "$dir/dump" && containerd --config "$copy" config dump > "$out" 2> "$out.err")
}

# check_file FILE EXPECTATION: one corpus file, in $SCRATCH/NAME. Prints "FAIL: ..." lines (and
# exits 1) or nothing.
check_file() {
  local file=$1 expectation=$2 name dir root config journal
  name=$(basename "$file")
  dir="$SCRATCH/$name" root="$SCRATCH/$name/root"
  config="$root/etc/containerd/config.toml" journal="$root/var/lib/gpu-node-setup/journal.json"
  local problems=0
  bad() { echo "FAIL: $name: $*"; problems=$((problems + 1)); }
  mkdir -p "$root/etc/containerd"
  cp "$file" "$config"
  cp "$file" "$dir/original"
  local sha0 status=0
  sha0=$(sha256sum < "$config")
  "$GNS_BIN" --root "$root" configure --runtime=containerd --no-restart \
    > "$dir/out" 2> "$dir/err" || status=$?

  case "$expectation" in
    refuse*)
      local want=${expectation#refuse }
      [ "$status" = "$want" ] || bad "expected a refusal with exit $want, got exit $status: $(head -c 300 "$dir/err")"
      [ "$(sha256sum < "$config")" = "$sha0" ] || bad "a refused file was changed"
      [ ! -e "$journal" ] || bad "a refused run wrote a journal"
      grep -q '/etc/containerd/config.toml:[0-9]' "$dir/err" || bad "the refusal does not name path:line: $(cat "$dir/err")"
      if [ "$want" = 5 ]; then
        grep -q '/etc/containerd/config.toml:[0-9]*:[0-9]*: ' "$dir/err" || bad "exit 5 without path:line:column: $(cat "$dir/err")"
      fi
      if [ "$want" = 1 ]; then
        grep -q -- '--runtime-name' "$dir/err" || bad "the refusal does not suggest --runtime-name: $(cat "$dir/err")"
      fi
      return $((problems > 0))
      ;;
  esac
  if [ "$status" != 0 ]; then
    bad "configure exited $status: $(head -c 400 "$dir/err")"
    return 1
  fi
  local sha1 jsha1
  sha1=$(sha256sum < "$config")
  jsha1=$({ sha256sum < "$journal"; } 2> /dev/null || echo none)
  if [ "$expectation" = unchanged ]; then
    grep -q "nothing to do" "$dir/out" || bad "expected 'nothing to do': $(head -3 "$dir/out")"
    [ "$sha1" = "$sha0" ] || bad "an already configured file was rewritten"
  else
    [ "$sha1" != "$sha0" ] || bad "configure left the file as it was: $(head -3 "$dir/out")"
  fi
  if grep -q "disables the CRI plugin" "$dir/out" "$dir/err"; then
    [ "$expectation" = cri-disabled ] || bad "a note says CRI is disabled, which it is not"
  else
    [ "$expectation" != cri-disabled ] || bad "no note that the CRI plugin is disabled"
  fi

  # A second run changes nothing: config and journal keep their bytes.
  local status2=0
  "$GNS_BIN" --root "$root" configure --runtime=containerd --no-restart > "$dir/again" 2>&1 || status2=$?
  [ "$status2" = 0 ] || bad "second configure exited $status2: $(head -c 300 "$dir/again")"
  grep -q "nothing to do" "$dir/again" || bad "second configure did something: $(head -3 "$dir/again")"
  [ "$(sha256sum < "$config")" = "$sha1" ] || bad "second configure rewrote the config"
  [ "$({ sha256sum < "$journal"; } 2> /dev/null || echo none)" = "$jsha1" ] || bad "second configure rewrote the journal"
  cp "$config" "$dir/configured"

  # The files themselves, as tomllib reads them.
  python3 "$SCRATCH/tomlinfo.py" semdiff "$dir/original" "$dir/configured" > "$dir/semdiff" 2>&1 \
    || bad "tomllib cannot compare: $(tail -2 "$dir/semdiff")"
  # An empty file gets a version key (README: the version the installed containerd reads).
  [ -s "$dir/original" ] || sed -i '/^version: (absent) -> 2$/d' "$dir/semdiff"
  [ ! -s "$dir/semdiff" ] || bad "settings other than ours changed: $(head -5 "$dir/semdiff" | tr '\n' ';')"
  local version
  version=$(python3 "$SCRATCH/tomlinfo.py" version "$dir/configured")
  if [ "$version" -ge 3 ]; then
    local rt='io.containerd.cri.v1.runtime'
    [ "$(python3 "$SCRATCH/tomlinfo.py" get "$dir/configured" plugins "$rt" containerd default_runtime_name)" = '"nvidia"' ] \
      || bad "v$version: [plugins.'$rt'.containerd] default_runtime_name is not nvidia"
    [ "$(python3 "$SCRATCH/tomlinfo.py" get "$dir/configured" plugins "$rt" containerd runtimes nvidia options BinaryName)" = '"/usr/bin/nvidia-container-runtime"' ] \
      || bad "v$version: runtimes.nvidia.options.BinaryName is not /usr/bin/nvidia-container-runtime"
  fi

  # The effective configuration, as containerd 1.6 loads it.
  if ! dump_of "$dir/original" "$dir" "$dir/dump-in"; then
    bad "containerd cannot load the original (neutralised): $(tail -2 "$dir/dump-in.err")"
  elif ! dump_of "$dir/configured" "$dir" "$dir/dump-out"; then
    bad "containerd rejects the configured file: $(tail -2 "$dir/dump-out.err")"
  else
    annotate "$dir/dump-in" > "$dir/dump-in.ann"
    annotate "$dir/dump-out" > "$dir/dump-out.ann"
    diff --old-line-format='-%L' --new-line-format='+%L' --unchanged-line-format='' \
      "$dir/dump-in.ann" "$dir/dump-out.ann" > "$dir/dump.diff" || true
    # runc written out where the file had no runtimes: the built-in runc's zero-valued options
    # (which runc reads as absent) are all that may go from it.
    local sign table line others=0 runc_added
    runc_added=$(python3 "$SCRATCH/tomlinfo.py" runc-added "$dir/original" "$dir/configured")
    while IFS=$'\t' read -r table line; do
      sign=${table:0:1} table=${table:1}
      if [[ "$table" =~ \.containerd\.runtimes\.nvidia(\.|$) ]]; then continue; fi
      if [[ "$table" =~ \.containerd$ && "$line" == "default_runtime_name = "* ]]; then continue; fi
      if [[ "$runc_added" == yes && "$sign" == - && "$table" =~ \.containerd\.runtimes\.runc\.options$ &&
        "$line" =~ \ =\ (\"\"|0|false)$ ]]; then continue; fi
      # The first six differing lines of a file say enough.
      others=$((others + 1))
      [ "$others" -le 6 ] && bad "effective config differs outside the nvidia runtime: [${table:-top level}] $sign$line"
    done < "$dir/dump.diff"
    [ "$others" -le 6 ] || bad "... and $((others - 6)) more differing dump lines (see $dir/dump.diff)"
    local cri='plugins."io.containerd.grpc.v1.cri".containerd'
    if grep -qF "[$cri.runtimes.runc]" "$dir/dump-in"; then
      [ "$(value "$dir/dump-out" "$cri.runtimes.runc" runtime_type)" = "$(value "$dir/dump-in" "$cri.runtimes.runc" runtime_type)" ] \
        || bad "dump: runtimes.runc is gone or changed its type: $(value "$dir/dump-out" "$cri.runtimes.runc" runtime_type)"
    fi
    if [ "$version" -lt 3 ]; then
      # Ours is runtimes.nvidia, or, where there was nothing to do, the default that already ran
      # our binary under another name (with a note saying so).
      local ours=nvidia before_default
      before_default=$(value "$dir/dump-in" "$cri" default_runtime_name | tr -d '"')
      if [ "$expectation" = unchanged ] && [ "$before_default" != nvidia ]; then
        ours=$before_default
        grep -qxF "note: the default runtime '$ours' already runs /usr/bin/nvidia-container-runtime; nothing added" "$dir/out" \
          || bad "no note that the default runtime $ours already runs the NVIDIA runtime: $(head -5 "$dir/out")"
      fi
      [ "$(value "$dir/dump-out" "$cri" default_runtime_name)" = "\"$ours\"" ] \
        || bad "dump: default_runtime_name is $(value "$dir/dump-out" "$cri" default_runtime_name), not \"$ours\""
      # A runc v2 shim, or the v1 shim the previous default ran (its options are copied).
      local type before_type
      type=$(value "$dir/dump-out" "$cri.runtimes.$ours" runtime_type)
      before_type=$(value "$dir/dump-in" "$cri.runtimes.$before_default" runtime_type)
      [ "$type" = '"io.containerd.runc.v2"' ] || { [ "$type" = '"io.containerd.runc.v1"' ] && [ "$type" = "$before_type" ]; } \
        || bad "dump: runtimes.$ours runtime_type is $type (the previous default's: $before_type)"
      [ "$(value "$dir/dump-out" "$cri.runtimes.$ours.options" BinaryName binaryName)" = '"/usr/bin/nvidia-container-runtime"' ] \
        || bad "dump: runtimes.$ours BinaryName is $(value "$dir/dump-out" "$cri.runtimes.$ours.options" BinaryName binaryName)"
      # SystemdCgroup: that of the runtime that was the default (absent reads as false).
      local before after
      before=$(value "$dir/dump-in" "$cri.runtimes.$before_default.options" SystemdCgroup systemdCgroup)
      after=$(value "$dir/dump-out" "$cri.runtimes.$ours.options" SystemdCgroup systemdCgroup)
      if [ "$before" != "<no table>" ] && [ "${before:-false}" != "${after:-false}" ]; then
        bad "dump: runtimes.$ours SystemdCgroup = ${after:-false}, but the previous default ($before_default) had ${before:-false}"
      fi
    fi
  fi

  # Revert puts the original bytes back.
  local status3=0
  "$GNS_BIN" --root "$root" revert > "$dir/revert" 2>&1 || status3=$?
  [ "$status3" = 0 ] || bad "revert exited $status3: $(head -c 300 "$dir/revert")"
  [ "$(sha256sum < "$config")" = "$sha0" ] || bad "revert did not restore the original bytes"
  return $((problems > 0))
}
# run_one "FILE<tab>EXPECTATION": one line of the work list, in a job of its own.
run_one() {
  local f e
  IFS=$'\t' read -r f e <<< "$1"
  if [ "$e" = cri-disabled ]; then export CRI_DISABLED=1; fi
  check_file "$f" "$e"
}
export -f run_one check_file annotate value dump_of
export SCRATCH GNS_BIN

: > "$SCRATCH/work"
for f in "${files[@]}"; do
  name=$(basename "$f")
  e=${expect[$name]:-changed}
  e=${e%% #*}
  printf '%s\t%s\n' "$f" "$e" >> "$SCRATCH/work"
done
start=$SECONDS
# One file per job (about 35 s for all on 2 cores); each job prints its failures.
# shellcheck disable=SC2016 # $1 is expanded by the job's bash
xargs -P "${GNS_TEST_JOBS:-4}" -d '\n' -I{} bash -c 'run_one "$1"' _ {} \
  < "$SCRATCH/work" > "$SCRATCH/failures" 2>&1 || true

for p in "${absent_before[@]}"; do
  [ ! -e "$p" ] || echo "FAIL: $p was created outside \$SCRATCH" >> "$SCRATCH/failures"
done
if grep -q . "$SCRATCH/failures"; then
  cat "$SCRATCH/failures" >&2
  fail "$(grep -c '^FAIL' "$SCRATCH/failures") problem(s) in ${#files[@]} containerd files ($((SECONDS - start)) s)"
fi
echo "${#files[@]} containerd files: outcomes as expected, effective configs differ only by the nvidia runtime, reverts exact ($((SECONDS - start)) s)"
