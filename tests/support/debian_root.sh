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
source "$(dirname "$0")/common.sh"
cached_root "$cache_dir" bookworm-minbase "$dest" ""
