#!/usr/bin/env bash
# The toolkit stage with real apt and dpkg, run by the tool under chroot in a throw-away
# Debian 12 root, from a signed local repository holding two releases of stand-in toolkit
# packages: apply adds the repository with signed-by, installs every package at the pinned
# version (not the newer one) and holds them; a second apply runs no package tool at all (they
# are taken out of the root); --toolkit-version moves the held packages to another version;
# revert leaves dpkg's package list and /etc as they were. A package installed before apply
# stays installed, unheld, after revert. A repository signed by another key than the configured
# one, and a key URL that serves no key, fail with a clear error and install nothing.
source "$(dirname "$0")/lib.sh"
require_tool chroot jq sha256sum
root="$SCRATCH/root"
debian_root "$root"
apt_repo "$SCRATCH/repo" "$GNS_TEST_FIXTURES/packages/toolkit.tsv"
mkdir -p "$root/srv" "$root/etc/gpu-node-setup"
cp -a "$SCRATCH/repo/repo" "$root/srv/repo"
cp "$SCRATCH/repo/key.asc" "$root/srv/key.asc"
cat > "$root/etc/gpu-node-setup/config.toml" <<'EOF'
[toolkit]
repository = "file:/srv/repo"
key = "file:///srv/key.asc"
version = "1.17.8-1"
EOF

gns() { "$GNS_BIN" --root "$root" "$@"; }
run_status() { local status=0; gns "$@" > "$SCRATCH/out" 2>&1 || status=$?; echo "$status"; }
packages() { chroot "$root" dpkg-query -W -f '${Package} ${Version} ${Status}\n' | sort; }
toolkit_packages() { packages | grep -E '^(nvidia-container-toolkit|nvidia-container-toolkit-base|libnvidia-container-tools|libnvidia-container1|libnvidia-container-test-dep) ' || true; }
packages_before=$(chroot "$root" dpkg-query -W | sort)
etc_before=$(etc_snapshot "$root")

# plan: the repository file and keyring, then update, install, hold; nothing changes.
[ "$(run_status plan --stages toolkit)" = 0 ] || fail "plan: $(cat "$SCRATCH/out")"
grep -qx '+deb \[signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.asc\] file:/srv/repo /' "$SCRATCH/out" \
  || fail "plan lacks the signed-by source line: $(cat "$SCRATCH/out")"
grep -q '^would run: apt-get install .* nvidia-container-toolkit=1.17.8-1 nvidia-container-toolkit-base=1.17.8-1 libnvidia-container-tools=1.17.8-1 libnvidia-container1=1.17.8-1 ' "$SCRATCH/out" \
  || fail "plan does not pin every package: $(cat "$SCRATCH/out")"
[ "$(etc_snapshot "$root")" = "$etc_before" ] || fail "plan changed /etc"

# apply: installed at the pin, held, with the repository's dependency.
[ "$(run_status apply --stages toolkit)" = 0 ] || fail "apply: $(cat "$SCRATCH/out")"
want='libnvidia-container-test-dep 1.0-1 install ok installed
libnvidia-container-tools 1.17.8-1 hold ok installed
libnvidia-container1 1.17.8-1 hold ok installed
nvidia-container-toolkit 1.17.8-1 hold ok installed
nvidia-container-toolkit-base 1.17.8-1 hold ok installed'
[ "$(toolkit_packages)" = "$want" ] || fail "after apply: $(toolkit_packages)"
[ "$(chroot "$root" /usr/bin/nvidia-ctk)" = "nvidia-container-toolkit-base 1.17.8-1" ] || fail "nvidia-ctk is not 1.17.8-1's"
cmp -s "$SCRATCH/repo/key.asc" "$root/usr/share/keyrings/nvidia-container-toolkit-keyring.asc" || fail "keyring is not the repository's key"
[ "$(jq -r '.stages.toolkit.undo["added:libnvidia-container-test-dep"]' "$root/var/lib/gpu-node-setup/journal.json")" = 1.0-1 ] \
  || fail "the journal does not record the dependency apt pulled in"

# status: applied. A second apply, with every package tool gone from the root: nothing to do.
[ "$(run_status status --stages toolkit)" = 0 ] || fail "status: $(cat "$SCRATCH/out")"
grep -q '^toolkit  *applied  *nvidia-container-toolkit 1.17.8-1' "$SCRATCH/out" || fail "status: $(cat "$SCRATCH/out")"
mkdir "$SCRATCH/hidden"
for tool in apt-get apt-mark dpkg dpkg-query apt; do mv "$root/usr/bin/$tool" "$SCRATCH/hidden/"; done
[ "$(run_status -v apply --stages toolkit)" = 0 ] || fail "second apply: $(cat "$SCRATCH/out")"
grep -qx 'toolkit: nothing to do' "$SCRATCH/out" || fail "second apply did something: $(cat "$SCRATCH/out")"
! grep -q 'running:' "$SCRATCH/out" || fail "second apply ran a command: $(cat "$SCRATCH/out")"
mv "$SCRATCH/hidden/"* "$root/usr/bin/"

# --toolkit-version moves the held packages to 1.18.0-1, without a second repository file.
[ "$(run_status apply --stages toolkit --toolkit-version 1.18.0-1)" = 0 ] || fail "apply 1.18.0-1: $(cat "$SCRATCH/out")"
[ "$(toolkit_packages | grep -c ' 1.18.0-1 hold ok installed$')" = 4 ] || fail "after --toolkit-version: $(toolkit_packages)"
! grep -q '^+++ ' "$SCRATCH/out" || fail "the repository files were written again: $(cat "$SCRATCH/out")"

# revert: dpkg's packages and /etc exactly as before.
[ "$(run_status revert)" = 0 ] || fail "revert: $(cat "$SCRATCH/out")"
[ "$(chroot "$root" dpkg-query -W | sort)" = "$packages_before" ] || fail "revert left packages: $(diff <(echo "$packages_before") <(chroot "$root" dpkg-query -W | sort))"
[ "$(etc_snapshot "$root")" = "$etc_before" ] || fail "revert left /etc changed: $(diff <(echo "$etc_before") <(etc_snapshot "$root"))"
[ ! -e "$root/usr/share/keyrings/nvidia-container-toolkit-keyring.asc" ] || fail "revert left the keyring"

# A toolkit package that was there before apply (installed by hand, not held) stays, unheld.
cp "$SCRATCH/repo/repo/libnvidia-container-test-dep_1.0-1_all.deb" "$SCRATCH/repo/repo/libnvidia-container1_1.17.8-1_all.deb" "$root/tmp/"
chroot "$root" dpkg -i /tmp/libnvidia-container-test-dep_1.0-1_all.deb /tmp/libnvidia-container1_1.17.8-1_all.deb > /dev/null
packages_before=$(packages)
[ "$(run_status apply --stages toolkit)" = 0 ] || fail "apply over a hand-installed package: $(cat "$SCRATCH/out")"
[ "$(toolkit_packages | grep -c ' 1.17.8-1 hold ok installed$')" = 4 ] || fail "after apply: $(toolkit_packages)"
[ "$(run_status revert)" = 0 ] || fail "revert: $(cat "$SCRATCH/out")"
[ "$(packages)" = "$packages_before" ] || fail "revert did not keep the earlier package as it was: $(diff <(echo "$packages_before") <(packages))"
grep -q '^libnvidia-container1 1.17.8-1 install ok installed$' <(packages) || fail "libnvidia-container1 was removed or left held"

[ "$(run_status revert)" = 0 ] || fail "revert: $(cat "$SCRATCH/out")"
etc_before=$(etc_snapshot "$root")
packages_before=$(packages)

# A repository signed by another key: apt's own error, nothing installed, and how to undo.
apt_repo "$SCRATCH/other" "$GNS_TEST_FIXTURES/packages/toolkit.tsv"
rm -rf "$root/srv/repo" "$root/var/lib/apt/lists/"*
cp -a "$SCRATCH/other/repo" "$root/srv/repo"
status=$(run_status apply --stages toolkit)
[ "$status" = 1 ] || fail "apply from a repository signed by another key: exit $status: $(cat "$SCRATCH/out")"
grep -q "NO_PUBKEY" "$SCRATCH/out" && grep -q "is not signed" "$SCRATCH/out" || fail "no signature error: $(cat "$SCRATCH/out")"
grep -q 'revert --stages toolkit' "$SCRATCH/out" || fail "the error does not say how to undo: $(cat "$SCRATCH/out")"
[ "$(packages)" = "$packages_before" ] || fail "packages were installed from a bad repository"
[ "$(run_status revert)" = 0 ] || fail "revert after the failure: $(cat "$SCRATCH/out")"
[ "$(etc_snapshot "$root")" = "$etc_before" ] || fail "revert after the failure left /etc changed"

# A key URL that serves a web page: refused before anything is written.
printf '<html><body>Proxy login required</body></html>\n' > "$root/srv/key.asc"
status=$(run_status apply --stages toolkit)
[ "$status" = 1 ] || fail "apply with a key that is no key: exit $status: $(cat "$SCRATCH/out")"
grep -q 'is not an OpenPGP public key (it starts with "<html><body>Proxy login' "$SCRATCH/out" || fail "unclear error: $(cat "$SCRATCH/out")"
[ "$(etc_snapshot "$root")" = "$etc_before" ] || fail "a refused key changed /etc"
[ "$(jq -c .stages "$root/var/lib/gpu-node-setup/journal.json")" = "{}" ] || fail "a refused key was journaled"
