#!/usr/bin/env bash
# `configure --runtime=docker` against a root: for no file, an empty file, a file with an
# operator's keys and one with another runtime, the daemon.json we write is loaded by a real
# dockerd (Debian's docker.io, on a private socket, data-root and exec-root), whose `docker
# info` lists the nvidia runtime and makes it the default; every key of the user's is still
# there with its value; a second configure writes nothing; revert restores the exact bytes.
source "$(dirname "$0")/lib.sh"
require_tool dockerd jq sha256sum
docker_cli=/usr/bin/docker  # docker.io's client, matching its daemon
[ -x "$docker_cli" ] || docker_cli=$(command -v docker) || skip "no docker client"
fixtures="$GNS_TEST_FIXTURES/docker"

# Starts dockerd on `config`, prints `docker info`'s runtimes and default, stops it by pid.
dockerd_runtimes() {
  local config=$1 dir=$2 pid status=0 flags=()
  mkdir -p "$dir"
  jq -e 'has("data-root")' "$config" > /dev/null || flags+=(--data-root "$dir/data")
  dockerd --config-file "$config" "${flags[@]}" --exec-root "$dir/exec" --pidfile "$dir/pid" \
    -H "unix://$dir/sock" --iptables=false --bridge=none --ip-masq=false > "$dir/log" 2>&1 &
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

check_case() {
  local name=$1 source=$2 root="$SCRATCH/$1/root"
  local config="$root/etc/docker/daemon.json"
  mkdir -p "$root/etc/docker"
  if [ -n "$source" ]; then sed "s#@DATA_ROOT@#$SCRATCH/$name/data-root#" "$source" > "$config"; fi
  local before_sha=absent
  [ -f "$config" ] && before_sha=$(sha256sum < "$config")

  "$GNS_BIN" --root "$root" configure --runtime=docker > "$SCRATCH/$name/out" \
    || fail "$name: configure failed: $(cat "$SCRATCH/$name/out")"
  read -r runtimes default < <(dockerd_runtimes "$config" "$SCRATCH/$name/dockerd")
  [ "$default" = nvidia ] || fail "$name: default runtime is '$default'"
  [ "$(jq -r .nvidia.path <<< "$runtimes")" = /usr/bin/nvidia-container-runtime ] \
    || fail "$name: runtimes: $runtimes"
  if [ -n "$source" ] && [ "$before_sha" != absent ] && [ -n "$(tr -d ' \n' < "$source")" ]; then
    # Every key of the user's, other than the two we own, keeps its value.
    local ours='del(.runtimes.nvidia, ."default-runtime") | if .runtimes == {} then del(.runtimes) else . end'
    diff -u <(sed "s#@DATA_ROOT@#$SCRATCH/$name/data-root#" "$source" | jq -S "$ours") \
      <(jq -S "$ours" "$config") || fail "$name: the user's keys changed"
  fi

  local applied_sha
  applied_sha=$(sha256sum < "$config")
  "$GNS_BIN" --root "$root" configure --runtime=docker > "$SCRATCH/$name/again"
  grep -q "nothing to do" "$SCRATCH/$name/again" || fail "$name: second configure: $(cat "$SCRATCH/$name/again")"
  [ "$(sha256sum < "$config")" = "$applied_sha" ] || fail "$name: second configure rewrote the file"

  "$GNS_BIN" --root "$root" revert > "$SCRATCH/$name/revert" || fail "$name: revert failed"
  if [ "$before_sha" = absent ]; then
    [ ! -e "$config" ] || fail "$name: revert left a file that was absent"
  else
    [ "$(sha256sum < "$config")" = "$before_sha" ] || fail "$name: revert did not restore the bytes"
  fi
}

check_case no-file ""
mkdir -p "$SCRATCH/empty"
: > "$SCRATCH/empty/daemon.json"
check_case empty "$SCRATCH/empty/daemon.json"
check_case whitespace "$fixtures/whitespace-only.json"
check_case user-keys "$fixtures/user-keys.json"
check_case other-runtime "$fixtures/other-runtime.json"
echo "dockerd loads every daemon.json configure wrote; revert restored each"
