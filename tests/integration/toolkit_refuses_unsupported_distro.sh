#!/usr/bin/env bash
# The toolkit stage on a host whose package system it does not know (Arch Linux, or no
# os-release at all), or whose package tools are missing, refuses before anything is written,
# with exit 8 and a message that says what to do instead; status calls it not applicable.
source "$(dirname "$0")/lib.sh"
root="$SCRATCH/root"
gns() { "$GNS_BIN" --root "$root" "$@"; }
run_status() { local status=0; gns "$@" > "$SCRATCH/out" 2>&1 || status=$?; echo "$status"; }
# The run lock (/run/gpu-node-setup.lock) is taken before planning and stays, as flock files do.
snapshot() { (cd "$root" && find . -path ./run -prune -o -printf '%y %p\n' | sort && find . -path ./run -prune -o -type f -exec sha256sum {} + | sort -k2); }

mkdir -p "$root/etc"
printf 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\n' > "$root/etc/os-release"
before=$(snapshot)
status=$(run_status apply --stages toolkit)
[ "$status" = 8 ] || fail "Arch Linux: exit $status, want 8: $(cat "$SCRATCH/out")"
grep -q 'unsupported distribution "Arch Linux": gpu-node-setup installs packages with apt' "$SCRATCH/out" || fail "message: $(cat "$SCRATCH/out")"
grep -q 'apply --stages nouveau,runtime' "$SCRATCH/out" || fail "no way forward offered: $(cat "$SCRATCH/out")"
[ "$(snapshot)" = "$before" ] || fail "a refused apply changed the root"
[ "$(run_status status --stages toolkit)" = 0 ] || fail "status: $(cat "$SCRATCH/out")"
grep -q '^toolkit  *not_applicable  *unsupported distribution "Arch Linux"' "$SCRATCH/out" || fail "status: $(cat "$SCRATCH/out")"

rm "$root/etc/os-release"
status=$(run_status plan --stages toolkit)
[ "$status" = 8 ] || fail "no os-release: exit $status, want 8: $(cat "$SCRATCH/out")"
grep -q 'no /etc/os-release, so the distribution is unknown' "$SCRATCH/out" || fail "message: $(cat "$SCRATCH/out")"

# Debian, the toolkit not installed, and no apt-get in the root to install it with.
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' > "$root/etc/os-release"
mkdir -p "$root/var/lib/dpkg"
: > "$root/var/lib/dpkg/status"
before=$(snapshot)
status=$(run_status apply --stages toolkit)
[ "$status" = 8 ] || fail "no apt-get: exit $status, want 8: $(cat "$SCRATCH/out")"
grep -q 'this distribution uses apt, but apt-get is not installed; nothing was changed' "$SCRATCH/out" || fail "message: $(cat "$SCRATCH/out")"
[ "$(snapshot)" = "$before" ] || fail "a refused apply changed the root"
