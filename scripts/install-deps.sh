#!/usr/bin/env bash
# Installs every Debian 12 package that building and testing gpu-node-setup need.
# Idempotent and non-interactive: safe to run again, never prompts (cloud-init, CI).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (it installs Debian packages)" >&2
  exit 1
fi

packages=(
  # toolchain
  g++ cmake make pkg-config
  # libraries (DEVELOPERS.md: Debian's packages only)
  libcli11-dev libpci-dev libtomlplusplus-dev nlohmann-json3-dev
  libboost-dev libboost-filesystem-dev catch2
  # libyaml: k3s/RKE2 config.yaml is parsed (and spliced by its marks) with it
  libyaml-dev
  # test oracles and helpers: the real lspci, its pci.ids, jq for JSON checks,
  # bzip2 to unpack the sysfs tarballs in ../shared/fixtures/pci/sysfs
  pciutils pci.ids jq bzip2 tar
  # diff and patch check util/unified_diff: `patch` must turn before into after with our
  # output, and it must be as short as `diff -u`'s. (diffutils is essential, patch is not.)
  diffutils patch
  # the real runtimes that load what configure writes: containerd (`containerd config dump`,
  # a daemon on private paths, `ctr plugins ls`) and docker.io (dockerd and its client)
  containerd docker.io
  # the package stages' tests: a throw-away Debian root (debootstrap) in which real apt and
  # dpkg run, a signed apt repository built with apt-ftparchive and gpg; signed rpms and an
  # rpm repository (rpmbuild, rpmsign, createrepo_c) for the real dnf inside a Rocky-like root
  # (debootstrap puts Debian's dnf there; the host's is never used); pgrep to stop the
  # gpg-agent dnf leaves behind in that root
  debootstrap apt-utils gnupg rpm createrepo-c procps
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
