#!/usr/bin/env bash
# make_apt_repo.sh OUT SPEC
#
# Builds a signed apt repository of small packages, as NVIDIA's and Debian's look to apt:
#   OUT/repo/        *.deb, Packages, Packages.gz, Release, InRelease (clearsigned)
#   OUT/keyring.gpg  the signing key's public part, binary (for signed-by=)
#   OUT/key.asc      the same, ASCII-armoured (what NVIDIA publishes as gpgkey)
#   OUT/gnupg/       the GNUPGHOME holding the secret key (to sign again, or tamper)
# Served as `deb [signed-by=KEYRING] file:/PATH ./` once OUT/repo is reachable inside the root.
#
# SPEC has one package per line, fields separated by tabs; '#' lines and blank lines are skipped:
#   NAME  VERSION  DEPENDS  PROGRAMS
# DEPENDS is a Depends: field as written in a control file ("-" for none); PROGRAMS is a
# space-separated list of absolute paths ("-" for none), each installed as a small sh script
# that prints "NAME VERSION" so a test can tell which version of a program is there.
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ $# -eq 2 ] || { echo "usage: $0 OUT SPEC" >&2; exit 2; }
out=$(realpath -m "$1") spec=$2
mkdir -p "$out/repo" "$out/gnupg" "$out/build"
chmod 700 "$out/gnupg"
export GNUPGHOME="$out/gnupg"

build_package() {
  local name=$1 version=$2 depends=$3 programs=$4 dir="$out/build/$1_$2"
  mkdir -p "$dir/DEBIAN"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: all"
    echo "Maintainer: gpu-node-setup tests <tests@gpu-node-setup.invalid>"
    [ "$depends" = - ] || echo "Depends: $depends"
    echo "Description: stand-in for $name, built by gpu-node-setup's tests"
  } > "$dir/DEBIAN/control"
  if [ "$programs" != - ]; then
    for program in $programs; do
      mkdir -p "$dir$(dirname "$program")"
      printf '#!/bin/sh\necho "%s %s"\n' "$name" "$version" > "$dir$program"
      chmod 755 "$dir$program"
    done
  fi
  dpkg-deb --root-owner-group --build "$dir" "$out/repo/${name}_${version}_all.deb" > /dev/null
}

while IFS=$'\t' read -r name version depends programs; do
  case $name in ''|'#'*) continue ;; esac
  build_package "$name" "$version" "${depends:--}" "${programs:--}"
done < "$spec"

make_signing_key
gpg --batch --quiet --export > "$out/keyring.gpg"
gpg --batch --quiet --armor --export > "$out/key.asc"

(
  cd "$out/repo"
  apt-ftparchive packages . > Packages
  gzip -9kf Packages
  # Release is written outside the repo and moved in, or it would list itself.
  apt-ftparchive -o APT::FTPArchive::Release::Origin=gns-tests -o APT::FTPArchive::Release::Suite=stable \
    release . > "$out/Release"
  mv "$out/Release" Release
  gpg --batch --quiet --yes --clearsign -o InRelease Release
)
rm -rf "$out/build"
# gpg started an agent for OUT/gnupg; it would outlive the test.
gpgconf --kill gpg-agent
