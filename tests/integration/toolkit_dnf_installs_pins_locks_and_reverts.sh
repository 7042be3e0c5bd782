#!/usr/bin/env bash
# The toolkit stage with real dnf and rpm (Debian's, in a root whose os-release says Rocky 9),
# run by the tool under chroot, from a signed local rpm repository holding two releases of
# stand-in toolkit packages: apply writes the .repo file (repo_gpgcheck, gpgkey), installs every
# package at the pinned version, and versionlocks them; a second apply runs neither dnf nor any
# install; revert restores the versionlock list byte for byte (a user's comment in it included),
# removes only what apply installed, and leaves /etc as it was. A repository signed by another
# key fails with dnf's signature error and installs nothing.
source "$(dirname "$0")/lib.sh"
require_tool chroot jq sha256sum pgrep
root="$SCRATCH/root"
rocky_root "$root"
before_cleanup() { stop_agents_in "$root"; }
rpm_repo "$SCRATCH/repo" "$GNS_TEST_FIXTURES/packages/toolkit-rpm.tsv"
mkdir -p "$root/srv" "$root/etc/gpu-node-setup"
cp -a "$SCRATCH/repo/repo" "$root/srv/repo"
cp "$SCRATCH/repo/key.asc" "$root/srv/key.asc"
cat > "$root/etc/gpu-node-setup/config.toml" <<'TOML'
[toolkit]
repository = "file:///srv/repo"
key = "file:///srv/key.asc"
version = "1.17.8-1"
TOML
printf '# locks kept by the operators\n' > "$root/etc/dnf/plugins/versionlock.list"

gns() { "$GNS_BIN" --root "$root" "$@"; }
run_status() { local status=0; gns "$@" > "$SCRATCH/out" 2>&1 || status=$?; echo "$status"; }
installed() { chroot "$root" rpm -qa --qf '%{NAME} %{VERSION}-%{RELEASE}\n' | sort; }
packages_before=$(installed)
etc_before=$(etc_snapshot "$root")

# apply: the .repo file, the pinned versions (not the newer ones), their locks.
[ "$(run_status apply --stages toolkit)" = 0 ] || fail "apply: $(cat "$SCRATCH/out")"
repo_file="$root/etc/yum.repos.d/nvidia-container-toolkit.repo"
grep -qx 'baseurl=file:///srv/repo' "$repo_file" && grep -qx 'repo_gpgcheck=1' "$repo_file" \
  && grep -qx 'gpgkey=file:///srv/key.asc' "$repo_file" || fail "repo file: $(cat "$repo_file")"
want='libnvidia-container-test-dep 1.0-1
libnvidia-container-tools 1.17.8-1
libnvidia-container1 1.17.8-1
nvidia-container-toolkit 1.17.8-1
nvidia-container-toolkit-base 1.17.8-1'
[ "$(installed | grep -E '^(libnvidia|nvidia)')" = "$want" ] || fail "after apply: $(installed | grep nvidia)"
for name in nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1; do
  grep -qx "$name-0:1.17.8-1.\*" "$root/etc/dnf/plugins/versionlock.list" || fail "$name is not versionlocked: $(cat "$root/etc/dnf/plugins/versionlock.list")"
done
# The lock holds: dnf itself refuses to move a locked package.
chroot "$root" dnf -y -q install nvidia-container-toolkit-1.18.0-1 > /dev/null 2>&1 && fail "dnf upgraded a locked package"

# A second apply: nothing to do, and the only command it runs is rpm's query.
[ "$(run_status -v apply --stages toolkit)" = 0 ] || fail "second apply: $(cat "$SCRATCH/out")"
grep -qx 'toolkit: nothing to do' "$SCRATCH/out" || fail "second apply did something: $(cat "$SCRATCH/out")"
[ "$(grep 'running:' "$SCRATCH/out")" = "gpu-node-setup: running: rpm -qa --queryformat '%{NAME}\t%{VERSION}-%{RELEASE}\n'" ] \
  || fail "second apply ran more than rpm -qa: $(grep running: "$SCRATCH/out")"

# revert: the rpm database and /etc as before, the operators' comment back in the lock list.
[ "$(run_status revert)" = 0 ] || fail "revert: $(cat "$SCRATCH/out")"
[ "$(installed)" = "$packages_before" ] || fail "revert left packages: $(diff <(echo "$packages_before") <(installed))"
[ "$(etc_snapshot "$root")" = "$etc_before" ] || fail "revert left /etc changed: $(diff <(echo "$etc_before") <(etc_snapshot "$root"))"

# A repository signed by another key: dnf's signature error, nothing installed, exit 1.
rpm_repo "$SCRATCH/other" "$GNS_TEST_FIXTURES/packages/toolkit-rpm.tsv"
rm -rf "$root/srv/repo" "$root/var/cache/dnf"
cp -a "$SCRATCH/other/repo" "$root/srv/repo"
status=$(run_status apply --stages toolkit)
[ "$status" = 1 ] || fail "apply from a repository signed by another key: exit $status: $(cat "$SCRATCH/out")"
grep -qi 'signature' "$SCRATCH/out" || fail "no signature error: $(cat "$SCRATCH/out")"
grep -q 'revert --stages toolkit' "$SCRATCH/out" || fail "the error does not say how to undo: $(cat "$SCRATCH/out")"
[ "$(installed)" = "$packages_before" ] || fail "packages were installed from a bad repository: $(installed | grep nvidia)"
[ "$(run_status revert)" = 0 ] || fail "revert after the failure: $(cat "$SCRATCH/out")"
[ "$(etc_snapshot "$root")" = "$etc_before" ] || fail "revert after the failure left /etc changed"
