#!/usr/bin/env bash
# `configure --runtime=crio --no-restart` over every real-world CRI-O file of the shared corpus
# (../shared/fixtures/runtime-configs/crio--*.conf), each placed where SOURCES.md says it lives:
# crio.conf, or a drop-in in crio.conf.d (OpenShift's 00-default, minikube's 02-crio.conf).
# Merging the files as CRI-O does (crio.conf, then crio.conf.d/* in lexical order, later keys
# winning, tables merged key by key), the result makes "nvidia" the default runtime with
# /usr/bin/nvidia-container-runtime, gives it the options of the runtime nvidia-ctk copies from
# (the default runtime, else runc, else crun; not the keys that choose the binary), and leaves
# every other key as it was. A second configure changes no byte (files and journal), and
# revert restores every file's sha256 and removes our drop-in.
#
# The trap: the NVIDIA device plugin README's own /etc/crio/crio.conf.d/99-nvidia.conf sits at
# exactly our drop-in's path. It already configures what we would, so configure has nothing to
# do and leaves it byte-identical; the same file naming another runtime path is refused (exit
# 1) and left untouched.
#
# CRI-O is not packaged in Debian 12 (`apt-cache policy cri-o` finds no package), so no real
# crio reads the result here: python3's tomllib parses each file and the merge is CRI-O's
# documented layering, done in this script.
source "$(dirname "$0")/lib.sh"
require_tool python3 sha256sum
corpus="$GNS_SHARED_FIXTURES/runtime-configs"
require_dir "$corpus"
trap_file="$corpus/crio--nvidia-k8s-device-plugin-readme-99-nvidia.conf"
[ -f "$trap_file" ] || skip "fixture $trap_file is missing"

# The CRI-O configuration under ROOT, merged as CRI-O merges it, as JSON on stdout.
merged() {
  python3 - "$1" <<'EOF'
import json, os, sys, tomllib
root = sys.argv[1]
def merge(into, new):
    for key, value in new.items():
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            merge(into[key], value)
        else:
            into[key] = value
def walk(path):  # Go's filepath.Walk: lexical order, a directory entered where it sorts
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        yield from walk(full) if os.path.isdir(full) else [full]
paths = [os.path.join(root, "etc/crio/crio.conf")]
if os.path.isdir(os.path.join(root, "etc/crio/crio.conf.d")):
    paths += walk(os.path.join(root, "etc/crio/crio.conf.d"))
config = {}
for path in paths:
    if os.path.exists(path):
        with open(path, "rb") as f:
            merge(config, tomllib.load(f))
json.dump(config, sys.stdout, sort_keys=True, default=str)
EOF
}

# Exits non-zero, saying why, unless AFTER (merged JSON) is BEFORE with our runtime added.
check_merged() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
def runtime_table(config):
    return config.get("crio", {}).get("runtime", {})
ours = runtime_table(after).get("runtimes", {}).get("nvidia", {})
problems = []
if runtime_table(after).get("default_runtime") != "nvidia":
    problems.append("default_runtime is %r" % runtime_table(after).get("default_runtime"))
if ours.get("runtime_path") != "/usr/bin/nvidia-container-runtime":
    problems.append("runtimes.nvidia.runtime_path is %r" % ours.get("runtime_path"))
if ours.get("runtime_type") != "oci":
    problems.append("runtimes.nvidia.runtime_type is %r" % ours.get("runtime_type"))
# The runtime nvidia-ctk copies from, as config::crio_base_runtime picks it.
runtimes = runtime_table(before).get("runtimes", {})
default = runtime_table(before).get("default_runtime")
candidates = ([default] if default and not default.startswith("nvidia") else []) + ["runc", "crun"]
base = next((runtimes[name] for name in candidates if isinstance(runtimes.get(name), dict)), {})
for key, value in base.items():
    if key in ("runtime_path", "runtime_type", "platform_runtime_paths", "inherit_default_runtime"):
        continue
    if ours.get(key) != value:
        problems.append("runtimes.nvidia.%s is %r, the base runtime's is %r" % (key, ours.get(key), value))
def without_ours(config):  # and the tables our keys alone made (empty ones are no setting)
    runtime_table(config).pop("default_runtime", None)
    runtime_table(config).get("runtimes", {}).pop("nvidia", None)
    if runtime_table(config).get("runtimes") == {}:
        runtime_table(config).pop("runtimes")
    if config.get("crio", {}).get("runtime") == {}:
        config["crio"].pop("runtime")
    return config
if without_ours(before) != without_ours(after):
    problems.append("other keys changed:\n%s\n%s" % (json.dumps(before, sort_keys=True),
                                                     json.dumps(after, sort_keys=True)))
if problems:
    sys.exit("\n".join(problems))
EOF
}

# sha256 of every file under ROOT, our journal and backups included.
shas() { (cd "$1" && find . -type f ! -name '*.lock' -print0 | sort -z | xargs -0 -r sha256sum); }

# NAME then pairs of (corpus file, host path): configure, check, configure again, revert.
configure_case() {
  local name=$1 root="$SCRATCH/$1" out="$SCRATCH/$1.out"
  shift
  while [ $# -gt 0 ]; do
    mkdir -p "$root$(dirname "$2")"
    cp "$corpus/$1" "$root$2"
    shift 2
  done
  local before
  before=$(shas "$root/etc")
  merged "$root" > "$SCRATCH/$name.before.json"
  "$GNS_BIN" --root "$root" configure --runtime=crio --no-restart > "$out" 2>&1 \
    || fail "$name: configure failed: $(cat "$out")"
  [ -f "$root/etc/crio/crio.conf.d/99-nvidia.conf" ] || fail "$name: no drop-in: $(cat "$out")"
  merged "$root" > "$SCRATCH/$name.after.json"
  check_merged "$SCRATCH/$name.before.json" "$SCRATCH/$name.after.json" 2> "$SCRATCH/$name.check" \
    || fail "$name: $(cat "$SCRATCH/$name.check")"

  local applied
  applied=$(shas "$root")
  "$GNS_BIN" --root "$root" configure --runtime=crio --no-restart > "$out" 2>&1 \
    || fail "$name: second configure failed: $(cat "$out")"
  grep -q "nothing to do" "$out" || fail "$name: second configure: $(cat "$out")"
  [ "$(shas "$root")" = "$applied" ] || fail "$name: second configure changed files"

  "$GNS_BIN" --root "$root" revert > "$out" 2>&1 || fail "$name: revert failed: $(cat "$out")"
  [ ! -e "$root/etc/crio/crio.conf.d/99-nvidia.conf" ] || fail "$name: revert left the drop-in"
  [ "$(shas "$root/etc")" = "$before" ] || fail "$name: revert did not restore the files' bytes"
}

configured=0
for conf in "$corpus"/crio--*.conf; do
  file=$(basename "$conf")
  case "$file" in
    crio--nvidia-k8s-device-plugin-readme-99-nvidia.conf) continue ;;  # the trap, below
    crio--openshift-sno-crio.conf.d-00-default.conf) dest=/etc/crio/crio.conf.d/00-default ;;
    crio--minikube-kicbase-02-crio.conf) dest=/etc/crio/crio.conf.d/02-crio.conf ;;
    *) dest=/etc/crio/crio.conf ;;
  esac
  configure_case "${file%.conf}" "$file" "$dest"
  configured=$((configured + 1))
done
[ "$configured" -ge 6 ] || fail "only $configured corpus files were configured"
# OpenShift's crio.conf and its drop-in come from the same node: together, as there.
configure_case openshift-sno-pair crio--openshift-sno-rhcos-crio.conf /etc/crio/crio.conf \
  crio--openshift-sno-crio.conf.d-00-default.conf /etc/crio/crio.conf.d/00-default

# The trap, alone and over a crio.conf whose default is runc: nothing to do, no byte changed.
for with_conf in no yes; do
  root="$SCRATCH/trap-$with_conf"
  mkdir -p "$root/etc/crio/crio.conf.d"
  cp "$trap_file" "$root/etc/crio/crio.conf.d/99-nvidia.conf"
  [ "$with_conf" = no ] || cp "$corpus/crio--sk8s-kubelet-minimal.conf" "$root/etc/crio/crio.conf"
  before=$(shas "$root/etc")
  "$GNS_BIN" --root "$root" configure --runtime=crio --no-restart > "$SCRATCH/trap.out" 2>&1 \
    || fail "trap ($with_conf crio.conf): configure failed: $(cat "$SCRATCH/trap.out")"
  grep -q "nothing to do" "$SCRATCH/trap.out" || fail "trap: $(cat "$SCRATCH/trap.out")"
  grep -qF "/etc/crio/crio.conf.d/99-nvidia.conf already configures runtime nvidia" \
    "$SCRATCH/trap.out" || fail "trap: no note naming the file: $(cat "$SCRATCH/trap.out")"
  [ "$(shas "$root/etc")" = "$before" ] || fail "trap ($with_conf crio.conf): files changed"
done

# The trap naming another runtime: refused, the user's file untouched.
root="$SCRATCH/trap-other-path"
mkdir -p "$root/etc/crio/crio.conf.d"
sed 's|/usr/bin/nvidia-container-runtime|/usr/local/nvidia/toolkit/nvidia-container-runtime|' \
  "$trap_file" > "$root/etc/crio/crio.conf.d/99-nvidia.conf"
grep -q /usr/local/nvidia "$root/etc/crio/crio.conf.d/99-nvidia.conf" || fail "the variant was not made"
before=$(shas "$root")
status=0
"$GNS_BIN" --root "$root" configure --runtime=crio --no-restart > "$SCRATCH/other.out" 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "another runtime path: exit $status: $(cat "$SCRATCH/other.out")"
grep -qF "error: /etc/crio/crio.conf.d/99-nvidia.conf exists" "$SCRATCH/other.out" \
  || fail "another runtime path: the error does not name the file: $(cat "$SCRATCH/other.out")"
grep -qF -- "--config /etc/crio/crio.conf.d/99-zz-nvidia.conf" "$SCRATCH/other.out" \
  || fail "another runtime path: no --config suggestion: $(cat "$SCRATCH/other.out")"
[ "$(shas "$root")" = "$before" ] || fail "another runtime path: files under the root changed"
echo "configure --runtime=crio over the CRI-O corpus: merged as CRI-O does, idempotent, reverted; the user's 99-nvidia.conf is kept"
