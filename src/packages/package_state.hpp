#pragma once
// What is installed and held, read from the package databases' own files where they are plain
// text (dpkg's status file, dnf's versionlock list, zypper's locks), so that a host where
// everything is in place costs no package-manager run at all.

#include <map>
#include <set>
#include <string>
#include <string_view>

namespace gns::packages {

struct InstalledPackage {
  std::string version;  // as the package system writes it: "1.17.8-1"
  bool held = false;    // apt-mark hold, dnf versionlock or zypper addlock
};

// Installed packages by name.
using InstalledSet = std::map<std::string, InstalledPackage>;

// The installed packages in dpkg's status file `text` (/var/lib/dpkg/status): a package
// counts when its Status ends in "installed"; held when it is wanted "hold". Packages that
// are removed but keep their config files, or half installed, do not count.
InstalledSet parse_dpkg_status(std::string_view text);

// The installed packages in the output of
// `rpm -qa --queryformat '%{NAME}\t%{VERSION}-%{RELEASE}\n'` (see rpm_query_format), none held.
// The keys rpm imported are listed as "gpg-pubkey-VERSION-RELEASE", one entry each.
InstalledSet parse_rpm_query(std::string_view text);
inline constexpr std::string_view k_rpm_query_format = "%{NAME}\\t%{VERSION}-%{RELEASE}\\n";

// The package names that dnf's versionlock list `text` (/etc/dnf/plugins/versionlock.list)
// locks: each line is a NEVRA glob such as "nvidia-container-toolkit-0:1.17.8-1.*"; excludes
// ("!name...") and comments lock nothing.
std::set<std::string> parse_versionlock_list(std::string_view text);

// The package names that dnf5's versionlock file `text` (/etc/dnf/versionlock.toml, Fedora 41
// and later) locks: the `name` of each [[packages]] entry. `path` names the file in errors;
// throws ConfigError when it is not TOML.
std::set<std::string> parse_dnf5_versionlock(std::string_view text, const std::string& path);

// The package names that zypper's locks file `text` (/etc/zypp/locks) locks: the
// "solvable_name:" of each entry.
std::set<std::string> parse_zypp_locks(std::string_view text);

}  // namespace gns::packages
