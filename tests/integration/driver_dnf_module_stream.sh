#!/usr/bin/env bash
# The driver stage with real dnf and rpm (Debian's, in a root whose os-release says Rocky 9),
# run by the tool under chroot, on an HGX host (Hopper GPUs: the open modules; NVSwitches:
# Fabric Manager). NVIDIA's CUDA repository is a signed local rpm repository whose
# nvidia-driver module has the streams 580-open, 580-dkms and 590-open; a "BaseOS" repository
# has the running kernel's kernel-devel (and a newer kernel's). apply installs the 580-open
# stream's default profile, the running kernel's headers and the stream's Fabric Manager, locks
# the driver packages, records the enabled stream in modules.d and enables Fabric Manager's
# service; a second apply runs only rpm's query; revert leaves rpm's database and /etc as they
# were (the stream no longer enabled, the operators' versionlock list byte for byte).
source "$(dirname "$0")/lib.sh"
require_tool chroot sha256sum pgrep rpmbuild createrepo_c
root="$SCRATCH/root"
rocky_root "$root"
before_cleanup() { stop_agents_in "$root"; }

# The running kernel, as the tool reads it under the root, and the x86_64 kernel-devel of it.
release=5.14.0-427.13.1.el9_4.x86_64
kernel_in "$root" "$release"
# kernel-core's link to the headers, dangling until kernel-devel is installed.
mkdir -p "$root/lib/modules/$release"
ln -s "/usr/src/kernels/$release" "$root/lib/modules/$release/build"

# NVIDIA's CUDA repository: the driver packages of three streams, Fabric Manager in each.
cat > "$SCRATCH/cuda.tsv" <<'TSV'
nvidia-driver	3:580.95.05-1	-	/usr/bin/nvidia-smi
kmod-nvidia-open-dkms	3:580.95.05-1	-	-
kmod-nvidia-latest-dkms	3:580.95.05-1	-	-
nvidia-fabric-manager	580.95.05-1	-	/usr/bin/nv-fabricmanager
nvidia-driver	3:590.44.01-1	-	/usr/bin/nvidia-smi
kmod-nvidia-open-dkms	3:590.44.01-1	-	-
nvidia-fabric-manager	590.44.01-1	-	/usr/bin/nv-fabricmanager
TSV
# stream NAME, its modules' package and version: a modulemd v2 document as NVIDIA's repository
# has one per stream (arch x86_64: dnf skips a module of another arch); the default profile
# installs the driver and its kmod, Fabric Manager is an artifact of the stream.
stream() {
  cat <<YAML
---
document: modulemd
version: 2
data:
  name: nvidia-driver
  stream: "$1"
  version: 20250101000000
  context: "0000${1%%-*}"
  arch: x86_64
  summary: NVIDIA driver $1 (stand-in)
  description: Stand-in for NVIDIA's nvidia-driver module, built by gpu-node-setup's tests.
  license:
    module: [MIT]
  profiles:
    default:
      rpms: [nvidia-driver, $2]
    fm:
      rpms: [nvidia-fabric-manager]
  artifacts:
    rpms:
      - nvidia-driver-3:$3.noarch
      - $2-3:$3.noarch
      - nvidia-fabric-manager-0:$3.noarch
...
YAML
}
{
  stream 580-open kmod-nvidia-open-dkms 580.95.05-1
  stream 580-dkms kmod-nvidia-latest-dkms 580.95.05-1
  stream 590-open kmod-nvidia-open-dkms 590.44.01-1
  # Without a default profile per stream `dnf module install NAME:STREAM` has nothing to
  # install; no default stream, as in NVIDIA's repository for a branch.
  cat <<'YAML'
---
document: modulemd-defaults
version: 1
data:
  module: nvidia-driver
  profiles:
    580-open: [default]
    580-dkms: [default]
    590-open: [default]
...
YAML
} > "$SCRATCH/modules.yaml"
rpm_module_repo "$SCRATCH/cuda" "$SCRATCH/cuda.tsv" "$SCRATCH/modules.yaml"

# BaseOS: x86_64 kernel-devel packages (make_rpm_repo.sh builds only noarch ones), unsigned,
# each with its kernel's Makefile under /usr/src/kernels as the real one has.
build_kernel_devel() {
  local version=$1 release=$2 top="$SCRATCH/baseos-build"
  local tree="/usr/src/kernels/$version-$release.x86_64"
  mkdir -p "$top/home"
  cat > "$top/kernel-devel-$version-$release.spec" <<SPEC
Name: kernel-devel
Version: $version
Release: $release
Summary: stand-in for the kernel's headers, built by gpu-node-setup's tests
License: MIT
AutoReqProv: no

%description
Stand-in for kernel-devel $version-$release.

%install
mkdir -p %{buildroot}$tree
echo 'KERNELRELEASE = $version-$release.x86_64' > %{buildroot}$tree/Makefile

%files
$tree
SPEC
  HOME="$top/home" rpmbuild --define "_topdir $top/rpmbuild" --define "_dbpath $top/rpmdb" \
    --define "__os_install_post %{nil}" --define "debug_package %{nil}" --target x86_64 --nodeps \
    --quiet -bb "$top/kernel-devel-$version-$release.spec" > "$top/rpmbuild.log" 2>&1 \
    || fail "rpmbuild kernel-devel: $(cat "$top/rpmbuild.log")"
}
build_kernel_devel 5.14.0 427.13.1.el9_4
build_kernel_devel 5.14.0 503.11.1.el9_5
mkdir -p "$root/srv/baseos"
cp "$SCRATCH/baseos-build/rpmbuild/RPMS/x86_64/"*.rpm "$root/srv/baseos/"
createrepo_c --quiet "$root/srv/baseos" > /dev/null
cat > "$root/etc/yum.repos.d/baseos.repo" <<'REPO'
[baseos]
name=Rocky Linux 9 - BaseOS (stand-in)
baseurl=file:///srv/baseos
enabled=1
gpgcheck=0
REPO

cp -a "$SCRATCH/cuda/repo" "$root/srv/cuda"
cp "$SCRATCH/cuda/key.asc" "$root/srv/cuda.asc"
mkdir -p "$root/etc/gpu-node-setup"
cat > "$root/etc/gpu-node-setup/config.toml" <<'TOML'
[driver]
repository = "file:///srv/cuda"
key = "file:///srv/cuda.asc"
TOML
printf '# locks kept by the operators\n' > "$root/etc/dnf/plugins/versionlock.list"
recording_systemctl "$root"  # each call in /var/log/systemctl.calls, nothing started

gns() { "$GNS_BIN" --root "$root" --pci-dump "$GNS_TEST_FIXTURES/pci/hgx-h100-2gpu-2nvswitch-derived-from-h100-sxm5-config96.lspci-x.txt" "$@"; }
run_status() { local status=0; gns "$@" > "$SCRATCH/out" 2>&1 || status=$?; echo "$status"; }
installed() { chroot "$root" rpm -qa --qf '%{NAME} %{VERSION}-%{RELEASE}\n' | sort; }
packages_before=$(installed)
etc_before=$(etc_snapshot "$root")

# apply: the stream's profile, then the headers and Fabric Manager, then the locks and the service.
[ "$(run_status -v apply --stages driver)" = 0 ] || fail "apply: $(cat "$SCRATCH/out")"
grep -qx "gpu-node-setup: running: dnf -y -q list --available kernel-devel-$release" "$SCRATCH/out" \
  || fail "the headers were not looked for: $(grep running: "$SCRATCH/out")"
grep -qx 'gpu-node-setup: running: dnf -y module install nvidia-driver:580-open' "$SCRATCH/out" \
  || fail "no module install: $(grep running: "$SCRATCH/out")"
chroot "$root" test -f "/lib/modules/$release/build/Makefile" || fail "the running kernel's headers are not there"
want='kernel-devel 5.14.0-427.13.1.el9_4
kmod-nvidia-open-dkms 580.95.05-1
nvidia-driver 580.95.05-1
nvidia-fabric-manager 580.95.05-1'
[ "$(installed | grep -E '^(kernel-devel|kmod-nvidia|nvidia-)')" = "$want" ] \
  || fail "after apply: $(installed | grep -E 'kernel|nvidia')"
repo_file="$root/etc/yum.repos.d/cuda-rhel9.repo"
grep -qx 'baseurl=file:///srv/cuda' "$repo_file" && grep -qx 'gpgkey=file:///srv/cuda.asc' "$repo_file" \
  || fail "repo file: $(cat "$repo_file")"
locks=$(grep -v '^#' "$root/etc/dnf/plugins/versionlock.list" | grep . | sort)
[ "$locks" = 'kmod-nvidia-open-dkms-3:580.95.05-1.*
nvidia-driver-3:580.95.05-1.*
nvidia-fabric-manager-0:580.95.05-1.*' ] || fail "versionlock list: $(cat "$root/etc/dnf/plugins/versionlock.list")"
head -1 "$root/etc/dnf/plugins/versionlock.list" | grep -qx '# locks kept by the operators' \
  || fail "the operators' line is gone: $(cat "$root/etc/dnf/plugins/versionlock.list")"
module_file="$root/etc/dnf/modules.d/nvidia-driver.module"
grep -qx 'stream=580-open' "$module_file" && grep -qx 'state=enabled' "$module_file" \
  || fail "modules.d: $(cat "$module_file" 2>&1)"
[ "$(cat "$root/var/log/systemctl.calls")" = 'enable nvidia-fabricmanager' ] \
  || fail "systemctl calls: $(cat "$root/var/log/systemctl.calls")"

# A second apply: nothing to do, and the only command it runs is rpm's query.
[ "$(run_status -v apply --stages driver)" = 0 ] || fail "second apply: $(cat "$SCRATCH/out")"
grep -qx 'driver: nothing to do' "$SCRATCH/out" || fail "second apply did something: $(cat "$SCRATCH/out")"
[ "$(grep 'running:' "$SCRATCH/out")" = "gpu-node-setup: running: rpm -qa --queryformat '%{NAME}\t%{VERSION}-%{RELEASE}\n'" ] \
  || fail "second apply ran more than rpm -qa: $(grep running: "$SCRATCH/out")"

# revert: the service disabled, the rpm database and /etc as before.
[ "$(run_status revert)" = 0 ] || fail "revert: $(cat "$SCRATCH/out")"
[ "$(tail -1 "$root/var/log/systemctl.calls")" = 'disable nvidia-fabricmanager' ] \
  || fail "revert did not disable Fabric Manager: $(cat "$root/var/log/systemctl.calls")"
[ "$(installed)" = "$packages_before" ] || fail "revert left packages: $(diff <(echo "$packages_before") <(installed))"
[ "$(etc_snapshot "$root")" = "$etc_before" ] || fail "revert left /etc changed: $(diff <(echo "$etc_before") <(etc_snapshot "$root"))"
# dnf itself sees the stream no longer enabled (the repository file is gone: name it here).
chroot "$root" dnf -q --repofrompath=cuda,file:///srv/cuda --setopt=cuda.gpgcheck=0 module list nvidia-driver \
  > "$SCRATCH/streams" 2>&1 || fail "dnf module list: $(cat "$SCRATCH/streams")"
grep -q '^nvidia-driver  *580-open ' "$SCRATCH/streams" || fail "no 580-open stream listed: $(cat "$SCRATCH/streams")"
if grep -q '^nvidia-driver .*\[e\]' "$SCRATCH/streams"; then fail "a stream is still enabled: $(cat "$SCRATCH/streams")"; fi
