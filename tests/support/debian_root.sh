#!/usr/bin/env bash
# debian_root.sh CACHE_DIR DEST
#
# Makes DEST a fresh, throw-away Debian 12 (bookworm) root for tests that run real apt and dpkg
# inside it (through chroot, as gpu-node-setup runs every command for a --root). The root is
# built once with `debootstrap --variant=minbase` and kept as CACHE_DIR/bookworm-minbase.tar;
# later calls only unpack that tar (about 2 s). The mirror is the one this machine's apt uses
# (GNS_DEBIAN_MIRROR overrides it). A lock keeps parallel tests from building it twice.
#
# The root gets no /proc and no /dev/pts: apt and dpkg do not need them (pass
# -o Dpkg::Use-Pty=0). It has no apt sources at all: a test adds the local repositories it
# builds, so nothing is fetched from the network after the first build. Docs, man pages and
# apt's package lists are left out to keep it small.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 CACHE_DIR DEST" >&2; exit 2; }
cache_dir=$1 dest=$2
tarball="$cache_dir/bookworm-minbase.tar"

debian_mirror() {
  if [ -n "${GNS_DEBIAN_MIRROR:-}" ]; then echo "$GNS_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 ~ /bookworm/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

build_tarball() {
  local work="$cache_dir/build.$$"
  rm -rf "$work"
  mkdir -p "$work"
  debootstrap --variant=minbase bookworm "$work/root" "$(debian_mirror)" > "$cache_dir/debootstrap.log" 2>&1 \
    || { tail -20 "$cache_dir/debootstrap.log" >&2; rm -rf "$work"; return 1; }
  chroot "$work/root" apt-get clean
  rm -rf "$work/root/usr/share/doc" "$work/root/usr/share/man" "$work/root/usr/share/locale" \
    "$work/root/var/lib/apt/lists/"* "$work/root/etc/apt/sources.list"
  tar -C "$work/root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$work"
}

mkdir -p "$cache_dir"
(
  flock 9
  [ -f "$tarball" ] || build_tarball
) 9> "$cache_dir/.lock"
rm -rf "$dest"
mkdir -p "$dest"
tar -C "$dest" -xf "$tarball"
