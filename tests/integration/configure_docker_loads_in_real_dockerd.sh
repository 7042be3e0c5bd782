#!/usr/bin/env bash
# `configure --runtime=docker` against a root: for no file, an empty file, a file with an
# operator's keys, one with another runtime and one whose nvidia runtime has another path and
# runtimeArgs, the daemon.json we write is loaded by a real dockerd (Debian's docker.io, on a
# private socket, data-root and exec-root), whose `docker info` lists the nvidia runtime (with
# the user's runtimeArgs) and makes it the default; every key of the user's is still there
# with its value; a second configure writes nothing; revert restores the exact bytes. After an
# operator's later edit, revert --force gives their nvidia entry back as it was (their path and
# runtimeArgs, nothing of ours), which dockerd loads too.
source "$(dirname "$0")/lib.sh"
require_tool dockerd jq sha256sum
docker_cli=/usr/bin/docker  # docker.io's client, matching its daemon
[ -x "$docker_cli" ] || docker_cli=$(command -v docker) || skip "no docker client"
fixtures="$GNS_TEST_FIXTURES/docker"
# dockerd looks up the binary of a runtime with runtimeArgs when it starts: this stand-in for
# nvidia-container-runtime (runc, as NVIDIA's wraps it) is found by its path or on dockerd's PATH.
stub_dir="$SCRATCH/bin"
mkdir -p "$stub_dir"
printf '#!/bin/sh\nexec runc "$@"\n' > "$stub_dir/nvidia-container-runtime"
chmod +x "$stub_dir/nvidia-container-runtime"

# Starts dockerd on `config`, prints `docker info`'s runtimes and default, stops it by pid.
dockerd_runtimes() {
  local config=$1 dir=$2 pid status=0 flags=()
  mkdir -p "$dir"
  jq -e 'has("data-root")' "$config" > /dev/null || flags+=(--data-root "$dir/data")
  PATH="$stub_dir:$PATH" dockerd --config-file "$config" "${flags[@]}" --exec-root "$dir/exec" \
    --pidfile "$dir/pid" -H "unix://$dir/sock" --iptables=false --bridge=none --ip-masq=false \
    > "$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    "$docker_cli" -H "unix://$dir/sock" info > /dev/null 2>&1 && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.05
  done
  "$docker_cli" -H "unix://$dir/sock" info --format '{{json .Runtimes}} {{.DefaultRuntime}}' || status=$?
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  [ "$status" -eq 0 ] || fail "dockerd did not load $config: $(tail -5 "$dir/log")"
}

# check_case NAME SOURCE [RUNTIME_ARGS]: RUNTIME_ARGS, compact JSON, are the runtimeArgs the
# nvidia runtime must keep, in the file and in `docker info`; the runtime is then the stand-in.
check_case() {
  local name=$1 source=$2 args=${3:-} root="$SCRATCH/$1/root"
  local runtime_path=/usr/bin/nvidia-container-runtime
  local configure=(--root "$root" configure --runtime=docker)
  if [ -n "$args" ]; then
    runtime_path="$stub_dir/nvidia-container-runtime"
    configure+=(--runtime-path "$runtime_path")
  fi
  local config="$root/etc/docker/daemon.json"
  mkdir -p "$root/etc/docker"
  if [ -n "$source" ]; then sed "s#@DATA_ROOT@#$SCRATCH/$name/data-root#" "$source" > "$config"; fi
  local before_sha=absent
  [ -f "$config" ] && before_sha=$(sha256sum < "$config")

  "$GNS_BIN" "${configure[@]}" > "$SCRATCH/$name/out" \
    || fail "$name: configure failed: $(cat "$SCRATCH/$name/out")"
  read -r runtimes default < <(dockerd_runtimes "$config" "$SCRATCH/$name/dockerd")
  [ "$default" = nvidia ] || fail "$name: default runtime is '$default'"
  [ "$(jq -r .nvidia.path <<< "$runtimes")" = "$runtime_path" ] \
    || fail "$name: runtimes: $runtimes"
  if [ -n "$args" ]; then
    [ "$(jq -c .runtimes.nvidia.runtimeArgs "$config")" = "$args" ] \
      || fail "$name: the written entry lost its runtimeArgs: $(jq -c .runtimes.nvidia "$config")"
    [ "$(jq -c .nvidia.runtimeArgs <<< "$runtimes")" = "$args" ] \
      || fail "$name: dockerd does not pass runtimeArgs $args: $runtimes"
  fi
  if [ -n "$source" ] && [ "$before_sha" != absent ] && [ -n "$(tr -d ' \n' < "$source")" ]; then
    # Every key of the user's, other than the two we own, keeps its value.
    local ours='del(.runtimes.nvidia, ."default-runtime") | if .runtimes == {} then del(.runtimes) else . end'
    diff -u <(sed "s#@DATA_ROOT@#$SCRATCH/$name/data-root#" "$source" | jq -S "$ours") \
      <(jq -S "$ours" "$config") || fail "$name: the user's keys changed"
  fi

  local applied_sha
  applied_sha=$(sha256sum < "$config")
  "$GNS_BIN" "${configure[@]}" > "$SCRATCH/$name/again"
  grep -q "nothing to do" "$SCRATCH/$name/again" || fail "$name: second configure: $(cat "$SCRATCH/$name/again")"
  [ "$(sha256sum < "$config")" = "$applied_sha" ] || fail "$name: second configure rewrote the file"

  "$GNS_BIN" --root "$root" revert > "$SCRATCH/$name/revert" || fail "$name: revert failed"
  if [ "$before_sha" = absent ]; then
    [ ! -e "$config" ] || fail "$name: revert left a file that was absent"
  else
    [ "$(sha256sum < "$config")" = "$before_sha" ] || fail "$name: revert did not restore the bytes"
  fi
}

# check_force_revert NAME SOURCE: configure, an operator's edit, revert --force.
check_force_revert() {
  local name=$1 source=$2 root="$SCRATCH/$1/root"
  local config="$root/etc/docker/daemon.json"
  mkdir -p "$root/etc/docker"
  cp "$source" "$config"
  "$GNS_BIN" --root "$root" configure --runtime=docker \
    --runtime-path "$stub_dir/nvidia-container-runtime" > "$SCRATCH/$name/out" \
    || fail "$name: configure failed: $(cat "$SCRATCH/$name/out")"
  jq '.debug = true' "$config" > "$SCRATCH/$name/edited"
  cp "$SCRATCH/$name/edited" "$config"
  "$GNS_BIN" --root "$root" revert --force > "$SCRATCH/$name/revert" 2>&1 \
    || fail "$name: revert --force failed: $(cat "$SCRATCH/$name/revert")"
  diff -u <(jq -S '.debug = true' "$source") <(jq -S . "$config") \
    || fail "$name: revert --force did not give the operator's entry back"
  read -r runtimes default < <(dockerd_runtimes "$config" "$SCRATCH/$name/dockerd")
  [ "$default" = runc ] || fail "$name: default runtime after revert --force is '$default'"
  [ "$(jq -c '.nvidia | {path, runtimeArgs}' <<< "$runtimes")" \
    = "$(jq -c '.runtimes.nvidia | {path, runtimeArgs}' "$source")" ] \
    || fail "$name: dockerd's nvidia runtime after revert --force: $runtimes"
}

check_case no-file ""
mkdir -p "$SCRATCH/empty"
: > "$SCRATCH/empty/daemon.json"
check_case empty "$SCRATCH/empty/daemon.json"
check_case whitespace "$fixtures/whitespace-only.json"
check_case user-keys "$fixtures/user-keys.json"
check_case other-runtime "$fixtures/other-runtime.json"
# nvidia-docker2's entry, with a relative path, and the operator's runtimeArgs.
mkdir -p "$SCRATCH/other-path"
cat > "$SCRATCH/other-path/daemon.json" << 'EOF'
{
    "runtimes": {
        "nvidia": {
            "path": "nvidia-container-runtime",
            "runtimeArgs": ["--debug"]
        }
    }
}
EOF
check_case other-path "$SCRATCH/other-path/daemon.json" '["--debug"]'
check_force_revert other-path-force "$SCRATCH/other-path/daemon.json"
echo "dockerd loads every daemon.json configure wrote; revert restored each; revert --force gave the entry back"
