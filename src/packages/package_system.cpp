#include "package_system.hpp"

#include <algorithm>

#include "../error.hpp"
#include "../host/os_release.hpp"

namespace gns::packages {
namespace {

using namespace std::chrono_literals;

// Fetching an index is quick or broken; installing may build kernel modules (DKMS) for
// minutes; holds and removals touch only the local database.
constexpr auto k_refresh_timeout = std::chrono::milliseconds(5min);
constexpr auto k_install_timeout = std::chrono::milliseconds(30min);
constexpr auto k_hold_timeout = std::chrono::milliseconds(2min);
constexpr auto k_remove_timeout = std::chrono::milliseconds(10min);

constexpr std::string_view k_dpkg_status = "/var/lib/dpkg/status";
constexpr std::string_view k_versionlock_list = "/etc/dnf/plugins/versionlock.list";
constexpr std::string_view k_zypp_locks = "/etc/zypp/locks";
constexpr std::string_view k_dnf5_versionlock = "/etc/dnf/versionlock.toml";
// dnf's versionlock plugin: its config file is there once it is installed (RHEL does not install
// it by default), and the package that has it.
constexpr std::string_view k_versionlock_conf = "/etc/dnf/plugins/versionlock.conf";
constexpr const char* k_versionlock_package = "python3-dnf-plugin-versionlock";

// apt and dpkg options every apt-get run gets: no pseudo-terminal for dpkg (there is none to
// give it), and on a config file the host changed, keep the host's version without asking.
const std::vector<std::string> k_apt_options = {
    "-o", "Dpkg::Use-Pty=0",
    "-o", "Dpkg::Options::=--force-confdef",
    "-o", "Dpkg::Options::=--force-confold"};

bool is_one_of(const std::string& value, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

std::optional<Family> family_of_id(const std::string& id) {
  if (is_one_of(id, {"debian", "ubuntu", "linuxmint", "pop", "raspbian", "kali", "neon"}))
    return Family::apt;
  if (is_one_of(id, {"rhel", "rocky", "almalinux", "centos", "fedora", "ol", "amzn", "circle"}))
    return Family::dnf;
  if (is_one_of(id, {"sles", "sled", "opensuse", "opensuse-leap", "opensuse-tumbleweed", "suse"}))
    return Family::zypper;
  return std::nullopt;
}

std::optional<Family> family_of(const host::OsRelease& os) {
  if (auto family = family_of_id(os.id)) return family;
  for (const auto& like : os.id_like)
    if (auto family = family_of_id(like)) return family;
  return std::nullopt;
}

// The programs a family's commands run, which the host must have.
std::vector<std::string_view> programs_of(Family family) {
  switch (family) {
    case Family::apt: return {"apt-get", "apt-mark", "dpkg"};
    case Family::dnf: return {"dnf", "rpm"};
    case Family::zypper: return {"zypper", "rpm"};
  }
  return {};
}

std::vector<std::string> requested_names(const std::vector<PackageRequest>& packages, Family family) {
  std::vector<std::string> names;
  for (const auto& package : packages) {
    if (!package.version && package.branch && family == Family::zypper) {
      // zypper takes a capability: the newest version below the next branch.
      names.push_back(package.name + "<" + std::to_string(std::stoul(*package.branch) + 1));
      continue;
    }
    if (!package.version && package.branch && family == Family::dnf) {
      names.push_back(package.name + "-" + *package.branch + ".*");  // dnf matches the glob
      continue;
    }
    if (!package.version) {
      names.push_back(package.name);
      continue;
    }
    // apt and zypper write name=version; dnf takes name-version-release.
    names.push_back(package.name + (family == Family::dnf ? "-" : "=") + *package.version);
  }
  return names;
}

std::vector<std::string> concat(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

InstalledSet rpm_installed(host::Runner& runner) {
  auto result = runner.run_checked(
      {"rpm", {"-qa", "--queryformat", std::string(k_rpm_query_format)}, std::chrono::minutes(1)});
  return parse_rpm_query(result.out);
}

void mark_held(InstalledSet& installed, const std::set<std::string>& held) {
  for (const auto& name : held)
    if (auto found = installed.find(name); found != installed.end()) found->second.held = true;
}

}  // namespace

bool PackageRequest::accepts(const std::string& installed_version) const {
  if (version) return installed_version == *version;
  if (branch) return installed_version.starts_with(*branch + ".");
  return true;
}

std::string_view to_string(Family family) {
  switch (family) {
    case Family::apt: return "apt";
    case Family::dnf: return "dnf";
    case Family::zypper: return "zypper";
  }
  return "?";
}

std::optional<Family> parse_family(std::string_view name) {
  for (auto family : {Family::apt, Family::dnf, Family::zypper})
    if (to_string(family) == name) return family;
  return std::nullopt;
}

InstalledSet PackageSystem::installed(const host::HostRoot& root, host::Runner& runner) const {
  switch (m_family) {
    case Family::apt:
      return parse_dpkg_status(root.read(k_dpkg_status));
    case Family::dnf: {
      auto installed = rpm_installed(runner);
      if (m_dnf5)
        mark_held(installed, parse_dnf5_versionlock(root.read_if_exists(k_dnf5_versionlock).value_or(""),
                                                    std::string(k_dnf5_versionlock)));
      else
        mark_held(installed, parse_versionlock_list(root.read_if_exists(k_versionlock_list).value_or("")));
      return installed;
    }
    case Family::zypper: {
      auto installed = rpm_installed(runner);
      mark_held(installed, parse_zypp_locks(root.read_if_exists(k_zypp_locks).value_or("")));
      return installed;
    }
  }
  return {};
}

std::optional<std::string> PackageSystem::hold_file() const {
  switch (m_family) {
    case Family::apt: return std::nullopt;
    case Family::dnf: return std::string(m_dnf5 ? k_dnf5_versionlock : k_versionlock_list);
    case Family::zypper: return std::string(k_zypp_locks);
  }
  return std::nullopt;
}

std::vector<std::string> PackageSystem::hold_support_packages(const host::HostRoot& root) const {
  // dnf5 has versionlock built in.
  if (m_family == Family::dnf && !m_dnf5 && !root.exists(k_versionlock_conf)) return {k_versionlock_package};
  return {};
}

void PackageSystem::require_programs(const host::HostRoot& root) const {
  for (auto program : programs_of(m_family))
    if (!root.find_executable(program))
      throw PreflightRefused(PreflightRefused::Reason::unsupported_distro,
                             "this distribution uses " + std::string(to_string(m_family)) +
                                 ", but " + std::string(program) + " is not installed; nothing "
                                 "was changed");
}

host::Command PackageSystem::command(std::string program, std::vector<std::string> args,
                                     std::chrono::milliseconds timeout) const {
  host::Command command{std::move(program), std::move(args), timeout};
  if (m_family == Family::apt) {
    // No debconf question, no apt-listchanges pager, no needrestart prompt (Ubuntu).
    command.env = {{"DEBIAN_FRONTEND", "noninteractive"},
                   {"APT_LISTCHANGES_FRONTEND", "none"},
                   {"NEEDRESTART_MODE", "a"}};
  }
  if (m_proxy) {
    // libcurl (dnf, zypper) reads only the lower-case http_proxy; apt reads both.
    command.env.emplace_back("http_proxy", *m_proxy);
    command.env.emplace_back("https_proxy", *m_proxy);
  }
  return command;
}

std::optional<host::Command> PackageSystem::refresh(const std::string& repo_file,
                                                    const std::string& repo_id) const {
  switch (m_family) {
    case Family::apt:
      // Only our source, so that another repository that is down cannot fail this; an index
      // whose signature fails is an error, even for a source fetched before.
      return command("apt-get",
                     {"update", "-o", "Dir::Etc::SourceList=" + repo_file, "-o",
                      "Dir::Etc::SourceParts=-", "-o", "APT::Get::List-Cleanup=0", "-o",
                      "APT::Update::Error-Mode=any"},
                     k_refresh_timeout);
    case Family::dnf:
      return std::nullopt;
    case Family::zypper:
      return command("zypper", {"--non-interactive", "--gpg-auto-import-keys", "refresh", repo_id},
                     k_refresh_timeout);
  }
  return std::nullopt;
}

host::Command PackageSystem::install(const std::vector<PackageRequest>& packages) const {
  const auto names = requested_names(packages, m_family);
  switch (m_family) {
    case Family::apt:
      return command("apt-get",
                     concat(concat({"install", "-y", "--no-install-recommends", "--allow-downgrades"},
                                   k_apt_options),
                            names),
                     k_install_timeout);
    case Family::dnf:
      return command("dnf", concat({"-y", "--setopt=install_weak_deps=False", "install"}, names),
                     k_install_timeout);
    case Family::zypper:
      return command("zypper",
                     concat({"--non-interactive", "--gpg-auto-import-keys", "install",
                             "--no-recommends", "--oldpackage"},
                            names),
                     k_install_timeout);
  }
  return {};
}

// dnf gets -y even where nothing is installed: loading the repositories may ask to import
// their key, and a question read from /dev/null is answered "no".
host::Command PackageSystem::hold(const std::vector<std::string>& names) const {
  switch (m_family) {
    case Family::apt: return command("apt-mark", concat({"hold"}, names), k_hold_timeout);
    case Family::dnf: return command("dnf", concat({"-y", "versionlock", "add"}, names), k_hold_timeout);
    case Family::zypper:
      return command("zypper", concat({"--non-interactive", "addlock"}, names), k_hold_timeout);
  }
  return {};
}

host::Command PackageSystem::release(const std::vector<std::string>& names) const {
  switch (m_family) {
    case Family::apt: return command("apt-mark", concat({"unhold"}, names), k_hold_timeout);
    case Family::dnf: return command("dnf", concat({"-y", "versionlock", "delete"}, names), k_hold_timeout);
    case Family::zypper:
      return command("zypper", concat({"--non-interactive", "removelock"}, names), k_hold_timeout);
  }
  return {};
}

host::Command PackageSystem::query_available(const std::string& name) const {
  switch (m_family) {
    case Family::apt:
      return command("apt-cache", {"show", "--no-all-versions", name}, k_refresh_timeout);
    case Family::dnf:
      return command("dnf", {"-y", "-q", "list", "--available", name}, k_refresh_timeout);
    case Family::zypper:
      return command("zypper", {"--non-interactive", "info", name}, k_refresh_timeout);
  }
  return {};
}

host::Command PackageSystem::module_enable(const std::string& stream) const {
  return command("dnf", {"-y", "module", "enable", stream}, k_hold_timeout);
}

host::Command PackageSystem::module_install(const std::string& stream) const {
  return command("dnf", {"-y", "module", "install", stream}, k_install_timeout);
}

host::Command PackageSystem::remove(const std::vector<std::string>& names) const {
  // dpkg and rpm themselves, not apt-get or dnf: those would also remove whatever depends on
  // these packages (a user's own package) or pull out dependencies we never installed.
  if (m_family == Family::apt) return command("dpkg", concat({"--purge"}, names), k_remove_timeout);
  return command("rpm", concat({"-e"}, names), k_remove_timeout);
}

PackageSystem package_system_for(const host::HostRoot& root, std::optional<std::string> proxy) {
  const auto os = host::read_os_release(root);
  const auto family = os ? family_of(*os) : std::nullopt;
  if (!family)
    throw PreflightRefused(
        PreflightRefused::Reason::unsupported_distro,
        (os ? "unsupported distribution \"" + (os->pretty_name.empty() ? os->id : os->pretty_name) + "\"" : "no /etc/os-release, so the distribution is unknown") +
            ": gpu-node-setup installs packages with apt (Debian, Ubuntu), dnf (RHEL, Rocky, "
            "Alma, Fedora, Amazon Linux) or zypper (SLES, openSUSE). Install the NVIDIA driver "
            "and container toolkit yourself, then run only the stages that need no packages: "
            "apply --stages nouveau,runtime");
  return package_system_of(root, *family, std::move(proxy));
}

PackageSystem package_system_of(const host::HostRoot& root, Family family, std::optional<std::string> proxy) {
  const bool dnf5 = family == Family::dnf && root.find_executable("dnf5").has_value();
  return PackageSystem(family, std::move(proxy), dnf5);
}

}  // namespace gns::packages
