#!/usr/bin/env bash
# rocky_root.sh CACHE_DIR DEST
#
# Makes DEST a fresh, throw-away root that is Rocky Linux 9 to gpu-node-setup, for tests that run
# real dnf and rpm inside it (through chroot, as the tool runs every command for a --root).
# It is Debian 12 underneath: `debootstrap --variant=minbase --include=dnf,rpm,dnf-plugins-core`
# (Debian's dnf 4.14, rpm 4.18 and the versionlock plugin), then made to look like Rocky 9:
#   /etc/os-release                   ID="rocky", ID_LIKE="rhel centos fedora", VERSION_ID="9.4",
#                                     PLATFORM_ID="platform:el9"
#   /etc/rpm/macros                   %_dbpath /var/lib/rpm (Debian's rpm defaults to ~/.rpmdb)
#   /var/lib/rpm                      an empty, initialised rpm database
#   /etc/dnf/dnf.conf                 releasever 9, module_platform_id platform:el9, plugins on,
#                                     no repositories but those in /etc/yum.repos.d (none yet)
#   /etc/dnf/plugins/versionlock.*    the plugin enabled, its (empty) list file present (without
#                                     it every dnf command that loads repositories fails)
#   /etc/dnf/plugins/{local,show-leaves,post-transaction-actions}.conf   disabled, as on Rocky
# so that plain `chroot DEST dnf -y install ...` and `chroot DEST rpm -q ...` work once a test adds
# a repository (see make_rpm_repo.sh). The root needs no /proc and no /dev.
#
# The root is built once and kept as CACHE_DIR/rocky9-on-bookworm.tar; later calls only unpack
# that tar (about 2 s). The mirror is the one this machine's apt uses (GNS_DEBIAN_MIRROR
# overrides it). A lock keeps parallel tests from building it twice. Docs, man pages, locales
# and apt's package lists are left out to keep it small.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 CACHE_DIR DEST" >&2; exit 2; }
cache_dir=$1 dest=$2
source "$(dirname "$0")/common.sh"

make_rocky() {
  local root=$1
  rm -f "$root/etc/os-release" "$root/usr/lib/os-release"
  cat > "$root/etc/os-release" <<'EOF'
NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
EOF
  cp "$root/etc/os-release" "$root/usr/lib/os-release"
  echo "Rocky Linux release 9.4 (Blue Onyx)" > "$root/etc/rocky-release"
  ln -sf rocky-release "$root/etc/redhat-release"
  ln -sf rocky-release "$root/etc/system-release"

  mkdir -p "$root/etc/rpm" "$root/var/lib/rpm"
  printf '%%_dbpath /var/lib/rpm\n' > "$root/etc/rpm/macros"
  chroot "$root" rpm --initdb

  mkdir -p "$root/etc/yum.repos.d" "$root/etc/dnf/vars" "$root/etc/dnf/plugins"
  cat > "$root/etc/dnf/dnf.conf" <<'EOF'
[main]
gpgcheck=1
installonly_limit=3
clean_requirements_on_remove=True
best=True
skip_if_unavailable=False
reposdir=/etc/yum.repos.d
module_platform_id=platform:el9
plugins=1
EOF
  echo 9 > "$root/etc/dnf/vars/releasever"
  cat > "$root/etc/dnf/plugins/versionlock.conf" <<'EOF'
[main]
enabled = 1
locklist = /etc/dnf/plugins/versionlock.list
EOF
  : > "$root/etc/dnf/plugins/versionlock.list"
  # Debian's dnf-plugins-core enables plugins that Rocky does not install: "local" adds a
  # _dnf_local repository without a gpgkey (every install then fails: "You have enabled checking
  # of packages via GPG keys..."), "show-leaves" prints "New leaves:" after each transaction.
  sed -i 's/^enabled *=.*/enabled = 0/' "$root/etc/dnf/plugins/local.conf"
  printf '[main]\nenabled = 0\n' > "$root/etc/dnf/plugins/show-leaves.conf"
  sed -i 's/^enabled *=.*/enabled = 0/' "$root/etc/dnf/plugins/post-transaction-actions.conf"
  rm -rf "$root/var/lib/dnf/plugins/local"
}

cached_root "$cache_dir" rocky9-on-bookworm "$dest" dnf,rpm,dnf-plugins-core make_rocky
