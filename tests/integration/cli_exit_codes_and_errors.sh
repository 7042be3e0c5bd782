#!/usr/bin/env bash
# The documented exit codes and error messages of the command line: usage errors exit 2,
# unusable input exits 1 with a message naming the file, --help and --version exit 0, and
# --write-ansible-fact writes exactly the JSON that --json prints, under --root.
source "$(dirname "$0")/lib.sh"
require_tool jq
dumps="$GNS_SHARED_FIXTURES/pci"
require_dir "$dumps"

# expect STATUS COMMAND...: runs it, keeps stdout/stderr in $SCRATCH, checks the exit status.
expect() {
  local want=$1 got=0
  shift
  "$@" > "$SCRATCH/stdout" 2> "$SCRATCH/stderr" || got=$?
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, want $want; stderr: $(cat "$SCRATCH/stderr")"
}
stderr_has() { grep -qF -- "$1" "$SCRATCH/stderr" || fail "stderr lacks '$1': $(cat "$SCRATCH/stderr")"; }

expect 2 "$GNS_BIN"
stderr_has "no command given"
expect 2 "$GNS_BIN" frobnicate
stderr_has "frobnicate"
expect 2 "$GNS_BIN" detect --no-such-flag
stderr_has "--no-such-flag"
expect 2 "$GNS_BIN" --verbose --quiet detect
expect 0 "$GNS_BIN" --help
grep -q "detect" "$SCRATCH/stdout" || fail "--help does not list detect"
grep -q "Examples:" "$SCRATCH/stdout" || fail "--help has no examples"
expect 0 "$GNS_BIN" --version
grep -Eq '^gpu-node-setup [0-9]+\.[0-9]+\.[0-9]+$' "$SCRATCH/stdout" || fail "--version: $(cat "$SCRATCH/stdout")"

expect 1 "$GNS_BIN" detect --pci-dump "$SCRATCH/absent.txt"
stderr_has "gpu-node-setup: error: $SCRATCH/absent.txt"
printf 'not\na dump\n' > "$SCRATCH/notes.txt"
expect 1 "$GNS_BIN" detect --pci-dump "$SCRATCH/notes.txt"
stderr_has "$SCRATCH/notes.txt: holds no PCI function"
head -c 4096 "$GNS_BIN" > "$SCRATCH/binary.txt"
expect 1 "$GNS_BIN" detect --pci-dump "$SCRATCH/binary.txt"
stderr_has "$SCRATCH/binary.txt"
[ ! -s "$SCRATCH/stdout" ] || fail "an error must not print a report on stdout"
expect 1 "$GNS_BIN" --root "$SCRATCH/no-such-root" detect --pci-dump "$dumps/mx130-3d.lspci-xxx.txt"
stderr_has "no-such-root"

# The Ansible fact describes this host, so it cannot come from a dump of other hardware.
expect 2 "$GNS_BIN" detect --write-ansible-fact --pci-dump "$dumps/gt1030-x2-hdmi-audio.lspci-xxx.txt"
stderr_has "cannot be combined with --pci-dump"

# The Ansible fact is the --json document, written under --root, and not executable.
root="$SCRATCH/root"
bash "${GNS_SOURCE_DIR:?}/tests/support/make_sysfs_tree.sh" "$dumps/gt1030-x2-hdmi-audio.lspci-xxx.txt" "$root" > /dev/null
expect 0 "$GNS_BIN" --root "$root" detect --json --write-ansible-fact
fact="$root/etc/ansible/facts.d/gpu.fact"
[ -f "$fact" ] || fail "no fact file at $fact"
[ "$(stat -c %a "$fact")" = 644 ] || fail "fact file mode $(stat -c %a "$fact"), want 644"
diff <(jq -S . "$fact") <(jq -S . "$SCRATCH/stdout") || fail "fact differs from --json output"
[ "$(jq .gpu_count "$fact")" -eq 2 ] || fail "fact gpu_count"
ls -a "$root/etc/ansible/facts.d" | grep -q gns- && fail "temp file left beside the fact"

# With no GPU the JSON is still complete, and the status is 3.
expect 3 "$GNS_BIN" detect --json --pci-dump "$dumps/NEG-intel-skylake-igpu.lspci-xxxx.txt"
[ "$(jq '.gpu_count' "$SCRATCH/stdout")" -eq 0 ] || fail "NEG dump gpu_count"
echo "exit codes and errors as documented"
