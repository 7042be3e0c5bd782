#pragma once
// The host's os-release (ID, VERSION_ID, ID_LIKE), which decides apt vs dnf vs zypper later.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host_root.hpp"

namespace gns::host {

struct OsRelease {
  std::string id;                    // "debian", "ubuntu", "rocky"; empty when unknown
  std::string version_id;            // "12", "22.04", "9.4"
  std::vector<std::string> id_like;  // "rhel centos fedora" split on spaces
  std::string pretty_name;           // "Debian GNU/Linux 12 (bookworm)"
};

// Parses os-release text `text` (KEY=value lines, values optionally quoted with " or ').
OsRelease parse_os_release(std::string_view text);

// Reads /etc/os-release, falling back to /usr/lib/os-release as os-release(5) says;
// nullopt when neither exists.
std::optional<OsRelease> read_os_release(const HostRoot& root);

}  // namespace gns::host
