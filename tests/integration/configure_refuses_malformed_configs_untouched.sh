#!/usr/bin/env bash
# `configure` on a config.toml or daemon.json it cannot understand (broken TOML or JSON, the
# wrong types, an inline runtimes table it cannot add to) exits 5 with `path:line:col: why`,
# naming the line of the fault, and writes nothing: the file keeps its bytes and its mtime,
# and no journal, backup or temp file appears under the root. Every case is checked; the
# failures are listed together at the end.
source "$(dirname "$0")/lib.sh"
require_tool containerd jq sha256sum stat
problems=()

# refused NAME RUNTIME LINE ORACLE CONTENT: with the bad config CONTENT (a printf format) in
# the root $SCRATCH/NAME/root, configure --runtime=RUNTIME must refuse it at LINE. ORACLE
# says what the runtime's own parser makes of it: "rejects" (`containerd config dump` or jq
# fails on it too) or "accepts" (valid syntax, which configure still cannot use).
refused() {
  local name=$1 runtime=$2 line=$3 oracle=$4 root="$SCRATCH/$1/root" rel config status=0
  case $runtime in
    containerd) rel=/etc/containerd/config.toml ;;
    docker) rel=/etc/docker/daemon.json ;;
  esac
  config="$root$rel"
  mkdir -p "$(dirname "$config")"
  # shellcheck disable=SC2059  # CONTENT is a format: it spells its \n, \r and \0 bytes
  printf "$5" > "$config"
  touch -d '2020-01-01 00:00:00.123456789' "$config"
  local sha mtime
  sha=$(sha256sum < "$config")
  mtime=$(stat -c %y "$config")

  local parsed=0
  if [ "$runtime" = containerd ]; then
    containerd --config "$config" config dump > /dev/null 2>&1 || parsed=$?
  else
    jq empty "$config" > /dev/null 2>&1 || parsed=$?
  fi
  if [ "$oracle" = rejects ] && [ "$parsed" -eq 0 ]; then problems+=("$name: the test's input is not malformed: $runtime's parser accepts it"); fi
  if [ "$oracle" = accepts ] && [ "$parsed" -ne 0 ]; then problems+=("$name: the test's input should be valid syntax"); fi

  "$GNS_BIN" --root "$root" configure --runtime="$runtime" > "$SCRATCH/$name/out" 2> "$SCRATCH/$name/err" || status=$?
  local first
  first=$(head -n 1 "$SCRATCH/$name/err")
  [ "$status" -eq 5 ] || problems+=("$name: exit $status, want 5; stderr: $first")
  [[ $first =~ ^gpu-node-setup:\ error:\ $rel:$line:[0-9]+:\  ]] \
    || problems+=("$name: want 'gpu-node-setup: error: $rel:$line:COL: ...', got: $first")
  [ "$(sha256sum < "$config")" = "$sha" ] || problems+=("$name: the file's bytes changed")
  [ "$(stat -c %y "$config")" = "$mtime" ] || problems+=("$name: the file's mtime changed")
  # Nothing else under the root but the lock: no journal, no backup, no temp file.
  local written
  written=$(cd "$root" && find . -type f ! -path ".$rel" ! -path ./run/gpu-node-setup.lock | sort | tr '\n' ' ')
  [ -z "$written" ] || problems+=("$name: wrote $written")
}

# containerd's config.toml (LINE is where the fault is; what follows it is never reached)
refused unclosed-table-header containerd 3 rejects \
  'version = 2\n\n[plugins."io.containerd.grpc.v1.cri"\n  sandbox_image = "x"\n'
refused duplicate-key containerd 4 rejects \
  'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  snapshotter = "overlayfs"\n  snapshotter = "native"\n'
refused duplicate-table containerd 6 rejects \
  'version = 2\n[grpc]\n  uid = 0\n[debug]\n  level = "info"\n[grpc]\n  gid = 0\n'
refused bad-string-escape containerd 3 rejects \
  'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "registry\\q/pause:3.9"\n'
# The fault is the string that opens on line 3 and never closes (containerd says line 3 too).
refused unterminated-multiline-string containerd 3 rejects \
  'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = """registry\n  pause:3.9\n[grpc]\n  uid = 0\n'
refused missing-value containerd 4 rejects \
  'version = 2\n[debug]\n  level = "info"\n  x = \n'
refused crlf-bare-word-on-line-3 containerd 3 rejects \
  'version = 2\r\n[debug]\r\n  level = info\r\n  format = "json"\r\n'
refused table-redefined-as-value containerd 5 rejects \
  'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  runtimes = "runc"\n'
refused nul-byte containerd 3 rejects \
  'version = 2\n[debug]\n  level = "in\0fo"\n'
refused table-redefined-as-array-of-tables containerd 4 rejects \
  'version = 2\n[plugins]\n  x = 1\n[[plugins]]\n  y = 2\n'
refused two-values-on-one-line containerd 3 rejects \
  'version = 2\n[debug]\n  level = "info" format = "json"\n'
refused unterminated-string containerd 3 rejects \
  'version = 2\n[debug]\n  level = "info\n  format = "json"\n'
# Valid TOML, but the runtimes are one inline table: the nvidia runtime cannot be added to it
# as a [table] without rewriting the user's line.
refused inline-runtimes-table containerd 4 accepts \
  'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  snapshotter = "overlayfs"\n  runtimes = { runc = { runtime_type = "io.containerd.runc.v2" } }\n'

# Docker's daemon.json
refused trailing-comma docker 4 rejects \
  '{\n  "log-driver": "json-file",\n  "storage-driver": "overlay2",\n}\n'
refused comment docker 2 rejects \
  '{\n  // our settings\n  "log-driver": "json-file"\n}\n'
refused unterminated-json-string docker 3 rejects \
  '{\n  "log-driver": "json-file",\n  "data-root": "/var/lib/docker\n}\n'
refused top-level-array docker 1 accepts \
  '[\n  {"log-driver": "json-file"}\n]\n'
refused runtimes-is-a-string docker 3 accepts \
  '{\n  "log-driver": "json-file",\n  "runtimes": "nvidia"\n}\n'

[ ${#problems[@]} -eq 0 ] || fail "$(printf '\n  %s' "${problems[@]}")"
echo "configure refused all 18 malformed configs and wrote nothing"
