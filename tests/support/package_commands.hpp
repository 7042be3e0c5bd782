#pragma once
// What the tests of the package stages (toolkit, driver) share: os-release texts, the exact
// argv the tool runs for apt, dpkg status stanzas and answers for a RecordingRunner, and a
// stand-in signing key.

#include <optional>
#include <string>
#include <vector>

#include "host/runner.hpp"
#include "packages/package_state.hpp"

namespace gns::test {

using Argv = std::vector<std::string>;

inline const std::string k_debian_os_release =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n";
inline const std::string k_rocky_os_release =
    "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n";
inline const std::string k_sles_os_release =
    "NAME=\"SLES\"\nVERSION=\"15-SP6\"\nVERSION_ID=\"15.6\"\nPRETTY_NAME=\"SUSE Linux Enterprise "
    "Server 15 SP6\"\nID=\"sles\"\nID_LIKE=\"suse\"\n";

// An ASCII-armoured OpenPGP public key, as far as the tool looks at one.
inline const std::string k_armoured_test_key =
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF3x...\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n";

inline Argv concat(Argv head, const Argv& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// `apt-get install` of `names` as PackageSystem runs it.
inline Argv apt_install(const Argv& names) {
  return concat({"apt-get", "install", "-y", "--no-install-recommends", "--allow-downgrades", "-o",
                 "Dpkg::Use-Pty=0", "-o", "Dpkg::Options::=--force-confdef", "-o",
                 "Dpkg::Options::=--force-confold"},
                names);
}

// `apt-get update` of only the source list `list`.
inline Argv apt_refresh(const std::string& list) {
  return {"apt-get", "update", "-o", "Dir::Etc::SourceList=" + list, "-o", "Dir::Etc::SourceParts=-",
          "-o", "APT::Get::List-Cleanup=0", "-o", "APT::Update::Error-Mode=any"};
}

inline const Argv k_rpm_query = {"rpm", "-qa", "--queryformat", std::string(packages::k_rpm_query_format)};

// One package's stanza of dpkg's status file, with a multi-line description as real ones have.
inline std::string dpkg_stanza(const std::string& name, const std::string& version,
                               const std::string& status = "install ok installed") {
  return "Package: " + name + "\nStatus: " + status + "\nArchitecture: amd64\nVersion: " + version +
         "\nDescription: " + name + "\n a continuation line\n\n";
}

// A command that exited 0 having printed `out`.
inline host::CommandResult output(const std::string& out) { return {0, std::nullopt, false, out, ""}; }

}  // namespace gns::test
