#!/usr/bin/env bash
# make_rpm_repo.sh OUT SPEC [MODULES_YAML]
#
# Builds a signed rpm (dnf/yum) repository of small packages, as NVIDIA's looks to dnf:
#   OUT/repo/        *.noarch.rpm, each signed, and repodata/ (createrepo_c) with
#                    repomd.xml.asc, a detached armoured signature (for repo_gpgcheck=1)
#   OUT/key.asc      the signing key's public part, ASCII-armoured (what NVIDIA publishes as gpgkey)
#   OUT/gnupg/       the GNUPGHOME holding the secret key (to sign again, or tamper)
# Served by a .repo file with baseurl=file:///PATH gpgcheck=1 gpgkey=file:///PATH/key.asc once
# OUT/repo and OUT/key.asc are reachable inside the root (see rocky_root.sh).
#
# SPEC is the format of make_apt_repo.sh: one package per line, fields separated by tabs; '#'
# lines and blank lines are skipped:
#   NAME  VERSION  DEPENDS  PROGRAMS
# VERSION is [EPOCH:]VERSION-RELEASE ("1.17.8-1" is Version 1.17.8, Release 1; no '-' means
# Release 1; "3:570.124.06-1" has Epoch 3); a NAME may appear with several versions. DEPENDS is
# an rpm Requires: field ("-" for none), e.g. "libnvidia-container1 = 1.17.8-1, other >= 2".
# PROGRAMS is a space-separated list of absolute paths ("-" for none), each installed as a small
# sh script that prints "NAME VERSION" so a test can tell which version of a program is there.
# The rpms are noarch with AutoReqProv: no, so they need nothing from the root (not even /bin/sh).
#
# MODULES_YAML, if given, is added to repodata as the "modules" metadata (modifyrepo_c
# --mdtype=modules): modulemd v2 documents (and modulemd-defaults) whose artifacts name the rpms
# as NAME-EPOCH:VERSION-RELEASE.noarch; `dnf module install NAME:STREAM` then works.
#
# Nothing on this machine's rpm database is read or written: rpmbuild runs with --nodeps and a
# private %_dbpath under OUT/build, which is removed at the end.
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ $# -eq 2 ] || [ $# -eq 3 ] || { echo "usage: $0 OUT SPEC [MODULES_YAML]" >&2; exit 2; }
out=$1 spec=$2 modules=${3:-}
[ -z "$modules" ] || modules=$(realpath "$modules")
mkdir -p "$out/repo" "$out/gnupg" "$out/build"
out=$(cd "$out" && pwd)
chmod 700 "$out/gnupg"
export GNUPGHOME="$out/gnupg"
# rpmbuild and rpmsign read ~/.rpmmacros and Debian's rpm keeps its database under ~: keep
# both away from the real home.
export HOME="$out/build/home"
mkdir -p "$HOME"

rpm_opts=(
  --define "_topdir $out/build/rpmbuild"
  --define "_dbpath $out/build/rpmdb"
  --define "_tmppath $out/build/tmp"
  --define "__os_install_post %{nil}"
  --define "debug_package %{nil}"
)

build_package() {
  local name=$1 full=$2 depends=$3 programs=$4 epoch='' version release
  version=$full
  if [[ $version == *:* ]]; then epoch=${version%%:*} version=${version#*:}; fi
  if [[ $version == *-* ]]; then release=${version##*-} version=${version%-*}; else release=1; fi
  local stage="$out/build/stage/$name-$full" specfile="$out/build/$name-$full.spec"
  mkdir -p "$stage" "$out/build/tmp"
  local files=()
  if [ "$programs" != - ]; then
    for program in $programs; do
      mkdir -p "$stage$(dirname "$program")"
      printf '#!/bin/sh\necho "%s %s"\n' "$name" "$full" > "$stage$program"
      chmod 755 "$stage$program"
      files+=("$program")
    done
  fi
  {
    echo "Name: $name"
    [ -z "$epoch" ] || echo "Epoch: $epoch"
    echo "Version: $version"
    echo "Release: $release"
    echo "Summary: stand-in for $name, built by gpu-node-setup's tests"
    echo "License: MIT"
    echo "BuildArch: noarch"
    echo "AutoReqProv: no"
    [ "$depends" = - ] || echo "Requires: $depends"
    echo
    echo "%description"
    echo "Stand-in for $name $full, built by gpu-node-setup's tests."
    echo
    echo "%install"
    echo "mkdir -p %{buildroot}"
    echo "cp -a '$stage/.' %{buildroot}/"
    echo
    echo "%files"
    for f in ${files[@]+"${files[@]}"}; do echo "%attr(0755,root,root) $f"; done
  } > "$specfile"
  rpmbuild "${rpm_opts[@]}" --nodeps --quiet -bb "$specfile" > "$out/build/rpmbuild.log" 2>&1 \
    || { cat "$out/build/rpmbuild.log" >&2; return 1; }
}

while IFS=$'\t' read -r name version depends programs; do
  case $name in ''|'#'*) continue ;; esac
  build_package "$name" "$version" "${depends:--}" "${programs:--}"
done < "$spec"
mv "$out/build/rpmbuild/RPMS/noarch/"*.rpm "$out/repo/"

make_signing_key
gpg --batch --quiet --armor --export > "$out/key.asc"

# Debian's rpm calls a gpg2 that does not exist; the key is found in GNUPGHOME.
rpmsign "${rpm_opts[@]}" --define "__gpg /usr/bin/gpg" --define "_gpg_path $GNUPGHOME" \
  --define "_gpg_name repo@gpu-node-setup.invalid" --addsign "$out/repo/"*.rpm > "$out/build/rpmsign.log" 2>&1 \
  || { cat "$out/build/rpmsign.log" >&2; exit 1; }
createrepo_c --quiet "$out/repo" > /dev/null
if [ -n "$modules" ]; then
  cp "$modules" "$out/build/modules.yaml"
  modifyrepo_c --mdtype=modules "$out/build/modules.yaml" "$out/repo/repodata" > /dev/null
fi
# repomd.xml.asc is what repo_gpgcheck=1 checks (NVIDIA's own .repo file has repo_gpgcheck=1).
gpg --batch --quiet --yes --armor --detach-sign -o "$out/repo/repodata/repomd.xml.asc" "$out/repo/repodata/repomd.xml"
# Signing started a gpg-agent for GNUPGHOME: stop it (it would outlive the test).
gpgconf --kill gpg-agent
rm -rf "$out/build"
