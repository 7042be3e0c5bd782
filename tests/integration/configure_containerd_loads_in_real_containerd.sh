#!/usr/bin/env bash
# `configure --runtime=containerd` against a root: for no file, an empty file, the stock
# `containerd config default`, a kubeadm config with SystemdCgroup, a version 1 config, one with
# comments and custom keys, one with imports and one already configured, Debian's containerd
# loads the config.toml we write (`config dump`) with the nvidia runtime (its BinaryName, the
# default runtime's options carried over) as the CRI default; no line of the user's is lost;
# a second configure writes nothing; revert restores the exact bytes. For the stock and the
# kubeadm config a real containerd daemon, on private paths under $SCRATCH, starts the CRI
# plugin with that runtime as its default, and creates nothing outside $SCRATCH.
source "$(dirname "$0")/lib.sh"
require_tool containerd ctr sha256sum stat awk
fixtures="$GNS_TEST_FIXTURES/containerd"
require_dir "$fixtures"
cri='plugins."io.containerd.grpc.v1.cri"'
binary='/usr/bin/nvidia-container-runtime'

# Host paths a containerd would create with its stock settings. Those absent now must still be
# absent at the end: the daemons here may only write under $SCRATCH.
host_paths=(/var/lib/containerd /run/containerd /opt/containerd /etc/cni /etc/cni/net.d
  /var/run/netns /run/netns /var/lib/nri /run/nri)
absent_before=()
for p in "${host_paths[@]}"; do [ -e "$p" ] || absent_before+=("$p"); done

# table_body FILE HEADER: the trimmed key lines of the table [HEADER] in FILE, a TOML file
# written as `containerd config dump` writes one (each header on a line of its own).
table_body() {
  awk -v want="[$2]" '
    { line = $0; gsub(/^[ \t]+|[ \t]+$/, "", line) }
    line ~ /^\[/ { inside = (line == want); next }
    inside && line != "" { print line }' "$1"
}

# in_table NAME FILE HEADER LINE: fails unless the table [HEADER] in FILE holds LINE.
in_table() {
  table_body "$2" "$3" | grep -qxF -- "$4" \
    || fail "$1: [$3] in $2 lacks '$4'; it holds: $(table_body "$2" "$3" | tr '\n' ';')"
}

# check_dump NAME CONFIG DIR SYSTEMD: `containerd config dump` loads CONFIG and shows the nvidia
# runtime as the CRI default; SYSTEMD (true/false/-) is the SystemdCgroup it must carry over.
check_dump() {
  local name=$1 config=$2 dump="$3/dump" systemd=$4
  containerd --config "$config" config dump > "$dump" 2> "$3/dump.err" \
    || fail "$name: containerd rejects $config: $(tail -3 "$3/dump.err")"
  in_table "$name" "$dump" "$cri.containerd" 'default_runtime_name = "nvidia"'
  in_table "$name" "$dump" "$cri.containerd.runtimes.nvidia" 'runtime_type = "io.containerd.runc.v2"'
  in_table "$name" "$dump" "$cri.containerd.runtimes.nvidia.options" "BinaryName = \"$binary\""
  if [ "$systemd" != - ]; then
    in_table "$name" "$dump" "$cri.containerd.runtimes.nvidia.options" "SystemdCgroup = $systemd"
  fi
}

# privatize CONFIG COPY DIR: COPY is CONFIG with only the keys that say where containerd keeps
# its state, listens and installs (and where CRI looks for CNI configs, a directory it creates)
# pointed under DIR; a key that is absent is added to its table, a table that is absent is
# appended. Every other byte stays as configure wrote it.
privatize() {
  awk -v dir="$3" '
    function header(line) { gsub(/^[ \t]+|[ \t]+$/, "", line); return substr(line, 2, length(line) - 2) }
    function put(t, k, v) { want[t, k] = v; tables[t] = 1 }
    BEGIN {
      put("", "root", dir "/root"); put("", "state", dir "/state")
      put("grpc", "address", dir "/grpc.sock"); put("ttrpc", "address", dir "/ttrpc.sock")
      put("debug", "address", dir "/debug.sock")
      put("plugins.\"io.containerd.internal.v1.opt\"", "path", dir "/opt")
      put("plugins.\"io.containerd.grpc.v1.cri\".cni", "conf_dir", dir "/cni")
    }
    # Pass 1: which tables and keys the file has.
    NR == FNR {
      if ($0 ~ /^[ \t]*\[[^\[]/) { table = header($0); seen_table[table] = 1; next }
      if (match($0, /^[ \t]*[A-Za-z_]+[ \t]*=/)) {
        key = substr($0, RSTART, RLENGTH - 1); gsub(/[ \t]/, "", key); seen[table, key] = 1
      }
      next
    }
    # Pass 2: print, replacing the values of our keys and adding the missing ones.
    FNR == 1 { table = ""; for (k in want) { split(k, tk, SUBSEP)
      if (tk[1] == "" && !seen["", tk[2]]) print tk[2] " = \"" want[k] "\"" } }
    {
      if ($0 ~ /^[ \t]*\[[^\[]/) {
        table = header($0); print
        for (k in want) { split(k, tk, SUBSEP)
          if (tk[1] == table && !seen[table, tk[2]]) print "  " tk[2] " = \"" want[k] "\"" }
        next
      }
      if (match($0, /^[ \t]*[A-Za-z_]+[ \t]*=/)) {
        key = substr($0, RSTART, RLENGTH - 1); indent = key; sub(/[^ \t].*/, "", indent)
        gsub(/[ \t]/, "", key)
        if ((table, key) in want) { print indent key " = \"" want[table, key] "\""; next }
      }
      print
    }
    END {
      for (t in tables) if (t != "" && !seen_table[t]) {
        printf "\n[%s]\n", t
        for (k in want) { split(k, tk, SUBSEP); if (tk[1] == t) print "  " tk[2] " = \"" want[k] "\"" }
      }
    }' "$1" "$1" > "$2"
  # Our own check of the above: apart from those keys, their headers and blank lines, the copy
  # is the configured file.
  local keys='(root|state|address|path|conf_dir)[[:blank:]]*='
  local opt='plugins\."io\.containerd\.internal\.v1\.opt"' cni='plugins\."io\.containerd\.grpc\.v1\.cri"\.cni'
  local tables="\\[(grpc|ttrpc|debug|$opt|$cni)\\]"
  local ours="^[[:blank:]]*(${keys}|${tables}[[:blank:]]*\$|\$)"
  diff <(grep -vE "$ours" "$1") <(grep -vE "$ours" "$2") > /dev/null \
    || fail "privatize changed more than the path keys of $1"
}

# runtime_in_log NAME: from the CRI plugin's "Start cri plugin with config {...}" line on
# stdin, the {...} of runtime NAME in its Runtimes map.
runtime_in_log() {
  awk -v key="$1:{" '
    {
      i = index($0, "Runtimes:map["); if (i == 0) next
      s = substr($0, i + length("Runtimes:map[")); depth = 0; start = 0
      for (p = 1; p <= length(s); p++) {
        c = substr(s, p, 1)
        if (depth == 0 && (p == 1 || substr(s, p - 1, 1) == " ") && substr(s, p, length(key)) == key) {
          start = p + length(key) - 1; break
        }
        if (c == "{" || c == "[") depth++
        else if (c == "}" || c == "]") { if (depth == 0) break; depth-- }
      }
      if (!start) next
      depth = 0
      for (p = start; p <= length(s); p++) {
        c = substr(s, p, 1)
        if (c == "{") depth++
        else if (c == "}" && --depth == 0) { print substr(s, start, p - start + 1); exit }
      }
    }'
}

# check_daemon NAME CONFIG DIR SYSTEMD: a real containerd on a private copy of CONFIG starts the
# CRI plugin (status ok) with the nvidia runtime as its default; stopped by its pid.
check_daemon() {
  local name=$1 config=$2 d="$3/daemon" systemd=$4 pid status=0
  mkdir -p "$d"
  privatize "$config" "$d/config.toml" "$d"
  containerd --config "$d/config.toml" > "$d/log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    [ -S "$d/grpc.sock" ] && timeout 5 ctr --address "$d/grpc.sock" plugins ls > "$d/plugins" 2>&1 && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.05
  done
  timeout 5 ctr --address "$d/grpc.sock" plugins ls > "$d/plugins" 2>&1 || status=$?
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  [ "$status" -eq 0 ] || fail "$name: containerd did not serve on $d/grpc.sock: $(tail -5 "$d/log")"

  [ "$(awk '$1 == "io.containerd.grpc.v1" && $2 == "cri" { print $4 }' "$d/plugins")" = ok ] \
    || fail "$name: the cri plugin is not ok: $(grep cri "$d/plugins");" \
      "log: $(grep -i 'level=error' "$d/log" | tail -3)"
  local started runtime
  started=$(grep -o 'Start cri plugin with config {.*}' "$d/log") \
    || fail "$name: no 'Start cri plugin' line in $d/log"
  grep -qF 'DefaultRuntimeName:nvidia ' <<< "$started" \
    || fail "$name: the CRI default is not nvidia: $(grep -o 'DefaultRuntimeName:[^ ]*' <<< "$started")"
  runtime=$(runtime_in_log nvidia <<< "$started")
  [ -n "$runtime" ] || fail "$name: CRI has no nvidia runtime: $started"
  grep -qF 'Type:io.containerd.runc.v2 ' <<< "$runtime" || fail "$name: nvidia runtime: $runtime"
  grep -qE "[[ ]BinaryName:${binary}[] ]" <<< "$runtime" \
    || fail "$name: nvidia runtime's BinaryName: $runtime"
  if [ "$systemd" != - ]; then
    grep -qE "[[ ]SystemdCgroup:${systemd}[] ]" <<< "$runtime" \
      || fail "$name: nvidia runtime's SystemdCgroup: $runtime"
  fi
  # It really ran on the private paths.
  for p in root/io.containerd.metadata.v1.bolt/meta.db state opt/bin cni; do
    [ -e "$d/$p" ] || fail "$name: the daemon did not create $d/$p"
  done
}

# check_case NAME SOURCE SYSTEMD [daemon|already]: SOURCE ("" for no file) is the root's
# config.toml (@ROOT@ in it becomes the root's directory); "already": it is configured already,
# so the first configure must change nothing either.
check_case() {
  local name=$1 source=$2 systemd=$3 mode=${4:-} dir="$SCRATCH/$1" root="$SCRATCH/$1/root"
  local config="$root/etc/containerd/config.toml"
  mkdir -p "$root/etc/containerd"
  if [ -n "$source" ]; then sed "s#@ROOT@#$root#" "$source" > "$config"; fi
  if grep -qs "^imports" "$config"; then
    mkdir -p "$root/etc/containerd/conf.d"
    cp "$fixtures/with-imports.conf.d/10-debug.toml" "$root/etc/containerd/conf.d/"
  fi
  local before_sha=absent before_mtime
  if [ -f "$config" ]; then
    cp "$config" "$dir/original"
    before_sha=$(sha256sum < "$config")
    before_mtime=$(stat -c %y "$config")
  fi

  "$GNS_BIN" --root "$root" configure --runtime=containerd > "$dir/out" 2> "$dir/err" \
    || fail "$name: configure failed: $(cat "$dir/err")"
  [ -f "$config" ] || fail "$name: configure wrote no $config"
  if [ "$mode" = already ]; then
    grep -q "nothing to do" "$dir/out" || fail "$name: configure on a configured file: $(cat "$dir/out")"
    [ "$(sha256sum < "$config")" = "$before_sha" ] || fail "$name: configure rewrote a configured file"
    [ "$(stat -c %y "$config")" = "$before_mtime" ] || fail "$name: configure touched a configured file"
  fi
  check_dump "$name" "$config" "$dir" "$systemd"
  if [ "$before_sha" != absent ]; then
    # Surgical: every line of the user's is still there, bar the default_runtime_name we set.
    local ours='^<[[:blank:]]*default_runtime_name[[:blank:]]*='
    if diff "$dir/original" "$config" | grep '^<' | grep -vE "$ours"; then
      fail "$name: configure removed or changed the user's lines above"
    fi
  fi
  if [ "$mode" = daemon ]; then check_daemon "$name" "$config" "$dir" "$systemd"; fi

  local applied_sha applied_mtime
  applied_sha=$(sha256sum < "$config")
  applied_mtime=$(stat -c %y "$config")
  "$GNS_BIN" --root "$root" configure --runtime=containerd > "$dir/again" 2>&1 \
    || fail "$name: second configure failed: $(cat "$dir/again")"
  grep -q "nothing to do" "$dir/again" || fail "$name: second configure: $(cat "$dir/again")"
  [ "$(sha256sum < "$config")" = "$applied_sha" ] || fail "$name: second configure rewrote the file"
  [ "$(stat -c %y "$config")" = "$applied_mtime" ] || fail "$name: second configure touched the file"

  "$GNS_BIN" --root "$root" revert > "$dir/revert" 2>&1 || fail "$name: revert failed: $(cat "$dir/revert")"
  if [ "$before_sha" = absent ]; then
    [ ! -e "$config" ] || fail "$name: revert left a file that was absent"
  else
    [ "$(sha256sum < "$config")" = "$before_sha" ] || fail "$name: revert did not restore the bytes"
  fi
}

# (a) no file and (b) an empty one: there is no containerd in the root to ask for its version,
# so configure writes a version 2 config (what containerd 1.x reads, and 2.x too).
check_case no-file "" -
mkdir -p "$SCRATCH/inputs"
: > "$SCRATCH/inputs/empty.toml"
check_case empty "$SCRATCH/inputs/empty.toml" -
# (c) what this host's containerd writes by default, generated now; a daemon runs on it.
containerd config default > "$SCRATCH/inputs/default.toml" || fail "containerd config default failed"
check_case default "$SCRATCH/inputs/default.toml" false daemon
# (d) kubeadm's: runc with the systemd cgroup driver, which the nvidia runtime must keep.
check_case kubeadm-systemd "$fixtures/kubeadm-systemd-cgroup.toml" true daemon
# (e) version 1: no version key, plugins by their short IDs ([plugins.cri.containerd]).
check_case v1 "$fixtures/v1-no-version.toml" -
# (f) comments everywhere, literal strings, custom keys and a second runtime.
check_case comments "$fixtures/comments-and-custom-keys.toml" true
dump="$SCRATCH/comments/dump"
in_table comments "$dump" "$cri" 'sandbox_image = "registry.example.com/pause:3.9"'
in_table comments "$dump" "$cri" 'max_container_log_line_size = 32768'
in_table comments "$dump" "$cri.containerd" 'discard_unpacked_layers = true'
in_table comments "$dump" "$cri.containerd.runtimes.runsc" 'runtime_type = "io.containerd.runsc.v1"'
in_table comments "$dump" "$cri.containerd.runtimes.runc.options" 'SystemdCgroup = true'
in_table comments "$dump" 'plugins."io.containerd.gc.v1.scheduler"' 'pause_threshold = 0.02'
# (g) imports of a drop-in in the root's conf.d: still imported (its debug level is merged).
check_case imports "$fixtures/with-imports.toml" -
in_table imports "$SCRATCH/imports/dump" debug 'level = "debug"'
grep -qF "\"$SCRATCH/imports/root/etc/containerd/conf.d/10-debug.toml\"" "$SCRATCH/imports/dump" \
  || fail "imports: the drop-in is no longer imported"
# (h) a file configure wrote before (from the stock config, in another root).
mkdir -p "$SCRATCH/prep/root/etc/containerd"
cp "$SCRATCH/inputs/default.toml" "$SCRATCH/prep/root/etc/containerd/config.toml"
"$GNS_BIN" --root "$SCRATCH/prep/root" configure --runtime=containerd > "$SCRATCH/prep/out" 2>&1 \
  || fail "prep: configure failed: $(cat "$SCRATCH/prep/out")"
cp "$SCRATCH/prep/root/etc/containerd/config.toml" "$SCRATCH/inputs/configured.toml"
check_case already-configured "$SCRATCH/inputs/configured.toml" false already

for p in "${absent_before[@]}"; do
  [ ! -e "$p" ] || fail "$p was created outside \$SCRATCH"
done
echo "containerd loads every config.toml configure wrote; revert restored each"
