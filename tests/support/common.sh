# Shared by the scripts in tests/support/ (sourced, not run): throw-away Debian roots built once
# with debootstrap and cached as a tar, and the GPG key that signs the test repositories.

# The Debian mirror this machine's apt uses (GNS_DEBIAN_MIRROR overrides it).
debian_mirror() {
  if [ -n "${GNS_DEBIAN_MIRROR:-}" ]; then echo "$GNS_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 ~ /bookworm/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# cached_root CACHE_DIR NAME DEST INCLUDE [CUSTOMIZE]: DEST becomes a fresh copy of the bookworm
# minbase root NAME, with the Debian packages INCLUDE (comma-separated, or empty) and then
# `CUSTOMIZE ROOT` run on it. Built once as CACHE_DIR/NAME.tar (a lock per NAME keeps parallel
# tests from building it twice); later calls only unpack the tar. Docs, man pages, locales,
# info pages and apt's lists and sources are left out: nothing is fetched after the build.
cached_root() {
  local cache_dir=$1 name=$2 dest=$3 include=$4 customize=${5:-}
  local tarball="$cache_dir/$name.tar"
  mkdir -p "$cache_dir"
  (
    flock 9
    [ -f "$tarball" ] || build_cached_root "$cache_dir" "$name" "$include" "$customize"
  ) 9> "$cache_dir/.$name.lock"
  rm -rf "$dest"
  mkdir -p "$dest"
  tar -C "$dest" -xf "$tarball"
}

build_cached_root() {
  local cache_dir=$1 name=$2 include=$3 customize=$4
  local work="$cache_dir/build-$name.$$" log="$cache_dir/debootstrap-$name.log"
  rm -rf "$work"
  mkdir -p "$work"
  debootstrap --variant=minbase ${include:+--include="$include"} bookworm "$work/root" \
    "$(debian_mirror)" > "$log" 2>&1 || { tail -20 "$log" >&2; rm -rf "$work"; return 1; }
  chroot "$work/root" apt-get clean
  rm -rf "$work/root/usr/share/doc" "$work/root/usr/share/man" "$work/root/usr/share/locale" \
    "$work/root/usr/share/info" "$work/root/var/lib/apt/lists/"* "$work/root/etc/apt/sources.list" \
    "$work/root/var/log/bootstrap.log"
  [ -z "$customize" ] || "$customize" "$work/root"
  tar -C "$work/root" -cf "$cache_dir/$name.tar.tmp" .
  mv "$cache_dir/$name.tar.tmp" "$cache_dir/$name.tar"
  rm -rf "$work"
}

# make_signing_key: a new RSA key without a passphrase in $GNUPGHOME, as
# "gpu-node-setup test repository <repo@gpu-node-setup.invalid>".
make_signing_key() {
  gpg --batch --quiet --gen-key <<KEY
%no-protection
Key-Type: RSA
Key-Length: 2048
Name-Real: gpu-node-setup test repository
Name-Email: repo@gpu-node-setup.invalid
Expire-Date: 0
KEY
}
