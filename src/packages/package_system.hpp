#pragma once
// The distribution's package tools, as the stages use them: which one a host has (apt, dnf or
// zypper), what is installed and held there, and the exact commands that refresh a repository,
// install, hold, release and remove packages: non-interactive (no prompt can wait for an
// answer that never comes) and each bounded in time.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../host/host_root.hpp"
#include "../host/runner.hpp"
#include "package_state.hpp"

namespace gns::packages {

enum class Family { apt, dnf, zypper };

// "apt", "dnf", "zypper"; parse_family reads them back (nullopt for anything else).
std::string_view to_string(Family family);
std::optional<Family> parse_family(std::string_view name);

// A package at an exact version ("1.17.8-1"), or at the newest the repositories offer.
struct PackageRequest {
  std::string name;
  std::optional<std::string> version;
  // Without a version: any version of this branch ("580" for 580.*), where the package's name
  // does not say the branch (SUSE's G06 packages, Fabric Manager on rpm hosts): dnf installs
  // NAME-580.*, zypper the newest below the next branch; apt names carry the branch already.
  std::optional<std::string> branch = std::nullopt;

  // True when `installed_version` is what this asks for.
  bool accepts(const std::string& installed_version) const;
};

class PackageSystem {
public:
  // `proxy`: an http(s) proxy URL every command that fetches goes through; nullopt: none
  // beyond what the host itself configures.
  // `dnf5`: dnf is dnf5 (Fedora 41 and later), which keeps its locks elsewhere.
  PackageSystem(Family family, std::optional<std::string> proxy, bool dnf5 = false)
      : m_family(family), m_proxy(std::move(proxy)), m_dnf5(dnf5) {}

  Family family() const { return m_family; }

  // Every installed package and whether it is held: dpkg's status file (apt), or `rpm -qa`
  // and the lock file (dnf's versionlock list, zypper's locks). Never runs apt, dnf or zypper.
  // Throws Error when the database cannot be read.
  InstalledSet installed(const host::HostRoot& root, host::Runner& runner) const;

  // Throws PreflightRefused (unsupported_distro) unless the programs the commands below run
  // are installed under `root`. installed() needs only rpm (dnf, zypper).
  void require_programs(const host::HostRoot& root) const;

  // The file the holds live in when it is a plain file under /etc (dnf's versionlock list,
  // dnf5's versionlock.toml, zypper's locks): the stage journals it like a file it edits, so revert puts it back byte
  // for byte (`dnf versionlock delete` would rewrite it without the user's comments); nullopt
  // for apt, whose holds are dpkg state.
  std::optional<std::string> hold_file() const;
  // Packages the holds need that `root` lacks (dnf's versionlock plugin), to install with the
  // first packages held.
  std::vector<std::string> hold_support_packages(const host::HostRoot& root) const;

  // Reads the index of the one repository `repo_id` whose file is `repo_file` (a host path),
  // failing when its signature does not verify; nullopt where install reads it anyway (dnf).
  std::optional<host::Command> refresh(const std::string& repo_file, const std::string& repo_id) const;
  // Installs `packages` at their versions (downgrading or moving held packages where a version
  // asks for it), without recommended extras, keeping the host's changed config files.
  host::Command install(const std::vector<PackageRequest>& packages) const;
  // Holds `names` at their installed versions (apt-mark hold, dnf versionlock add, zypper
  // addlock), and releases them again.
  host::Command hold(const std::vector<std::string>& names) const;
  host::Command release(const std::vector<std::string>& names) const;
  // Succeeds (exit 0, with output) when some configured repository has package `name`: the
  // query tool, not an install (apt-cache show, dnf list --available, zypper info).
  host::Command query_available(const std::string& name) const;
  // dnf module streams ("nvidia-driver:580-open"): enable one, or install its default profile.
  host::Command module_enable(const std::string& stream) const;
  host::Command module_install(const std::string& stream) const;

  // Removes `names` and their config files, and nothing else: never a package that depends
  // on them (the command fails instead) and never a dependency.
  host::Command remove(const std::vector<std::string>& names) const;

private:
  host::Command command(std::string program, std::vector<std::string> args,
                        std::chrono::milliseconds timeout) const;

  Family m_family;
  std::optional<std::string> m_proxy;
  bool m_dnf5 = false;
};

// The package system of the host at `root`, from its os-release (ID, then ID_LIKE): apt for
// Debian, Ubuntu and their derivatives; dnf for RHEL, Rocky, Alma, CentOS Stream, Fedora,
// Oracle and Amazon Linux; zypper for SLES and openSUSE. Throws PreflightRefused
// (unsupported_distro) for any other.
PackageSystem package_system_for(const host::HostRoot& root, std::optional<std::string> proxy);

// The package system of `family` on the host at `root` (dnf5 where it is installed), for a
// family already known (revert reads it from the journal).
PackageSystem package_system_of(const host::HostRoot& root, Family family, std::optional<std::string> proxy);

}  // namespace gns::packages
