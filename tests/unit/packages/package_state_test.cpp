#include "packages/package_state.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace gns;
using namespace gns::packages;

namespace {

// Stanzas as dpkg writes them to /var/lib/dpkg/status: continuation lines, Conffiles, and the
// states a package passes through.
const std::string k_dpkg_status = R"(Package: nvidia-container-toolkit
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 2496
Maintainer: NVIDIA CORPORATION <cudatools@nvidia.com>
Architecture: amd64
Version: 1.17.8-1
Depends: nvidia-container-toolkit-base (= 1.17.8-1), libnvidia-container-tools (= 1.17.8-1)
Description: NVIDIA Container toolkit
 Provides tools and utilities to enable GPU support in containers.
 .
 Version: 9.9.9 is text of the description, not a field.

Package: nvidia-container-toolkit-base
Status: hold ok installed
Architecture: amd64
Version: 1.17.8-1
Conffiles:
 /etc/nvidia-container-runtime/config.toml 0123456789abcdef0123456789abcdef
Description: NVIDIA Container Toolkit Base

Package: libnvidia-container1
Status: deinstall ok config-files
Architecture: amd64
Version: 1.16.0-1
Description: removed, only its config files are left

Package: libnvidia-container-tools
Status: install reinstreq half-installed
Architecture: amd64
Version: 1.17.8-1
Description: half installed: its files are not all there

Package: containerd
Status: deinstall ok installed
Architecture: amd64
Version: 1.6.20~ds1-1+deb12u3
Description: selected for removal, still installed
)";

}  // namespace

TEST_CASE("dpkg status counts only packages whose state is installed", "[packages]") {
  const auto installed = parse_dpkg_status(k_dpkg_status);
  CHECK(installed.size() == 3);
  REQUIRE(installed.contains("nvidia-container-toolkit"));
  CHECK(installed.at("nvidia-container-toolkit").version == "1.17.8-1");
  CHECK_FALSE(installed.at("nvidia-container-toolkit").held);
  CHECK_FALSE(installed.contains("libnvidia-container1"));       // config files only
  CHECK_FALSE(installed.contains("libnvidia-container-tools"));  // half installed
  REQUIRE(installed.contains("containerd"));                     // to be removed, still there
  CHECK(installed.at("containerd").version == "1.6.20~ds1-1+deb12u3");
  CHECK_FALSE(installed.at("containerd").held);
}

TEST_CASE("dpkg status marks a package wanted hold as held", "[packages]") {
  const auto installed = parse_dpkg_status(k_dpkg_status);
  REQUIRE(installed.contains("nvidia-container-toolkit-base"));
  CHECK(installed.at("nvidia-container-toolkit-base").held);
  CHECK(installed.at("nvidia-container-toolkit-base").version == "1.17.8-1");
}

TEST_CASE("dpkg status ignores field names inside continuation lines", "[packages]") {
  // "Version: 9.9.9" is a line of the description; the stanza's Version stays.
  CHECK(parse_dpkg_status(k_dpkg_status).at("nvidia-container-toolkit").version == "1.17.8-1");
}

TEST_CASE("dpkg status reads a last stanza without a trailing blank line or newline", "[packages]") {
  const auto installed =
      parse_dpkg_status("Package: a\nStatus: install ok installed\nVersion: 1\n\n"
                        "Package: b\nStatus: hold ok installed\nVersion: 2.0-1");
  REQUIRE(installed.size() == 2);
  CHECK(installed.at("b").version == "2.0-1");
  CHECK(installed.at("b").held);
}

TEST_CASE("dpkg status separates stanzas at whitespace-only lines and reads CRLF lines", "[packages]") {
  const auto installed = parse_dpkg_status(
      "Package: a\r\nStatus: install ok installed\r\nVersion: 1.0\r\n \t\r\n"
      "Package: b\nStatus: install ok installed\nVersion: 2.0\n");
  REQUIRE(installed.size() == 2);
  CHECK(installed.at("a").version == "1.0");
  CHECK(installed.at("b").version == "2.0");
}

TEST_CASE("dpkg status of an empty file has no packages", "[packages]") {
  CHECK(parse_dpkg_status("").empty());
  CHECK(parse_dpkg_status("\n\n").empty());
  CHECK(parse_dpkg_status("Status: install ok installed\nVersion: 1\n").empty());  // no Package
}

TEST_CASE("rpm query output gives each package its version-release and no hold", "[packages]") {
  const auto installed = parse_rpm_query(
      "nvidia-container-toolkit\t1.17.8-1\n"
      "libnvidia-container1\t1.17.8-1\n"
      "kernel-core\t5.14.0-427.13.1.el9_4\n"
      "gpg-pubkey\t5a6340b3-6229229e\n");
  REQUIRE(installed.size() == 4);
  CHECK(installed.at("nvidia-container-toolkit").version == "1.17.8-1");
  CHECK(installed.at("kernel-core").version == "5.14.0-427.13.1.el9_4");
  for (const auto& [name, package] : installed) CHECK_FALSE(package.held);
}

TEST_CASE("rpm query output names each imported key by its version so that each can be removed", "[packages]") {
  const auto installed = parse_rpm_query("gpg-pubkey\t5a6340b3-6229229e\ngpg-pubkey\tb59cd0f5-6b047ad0\n");
  REQUIRE(installed.size() == 2);
  CHECK(installed.at("gpg-pubkey-5a6340b3-6229229e").version == "5a6340b3-6229229e");
  CHECK(installed.contains("gpg-pubkey-b59cd0f5-6b047ad0"));
}

TEST_CASE("rpm query output skips lines without a tab and trims spaces", "[packages]") {
  const auto installed = parse_rpm_query("no tab here\n\n  bash \t 5.1.8-9.el9 \r\n\t1.0-1\n");
  REQUIRE(installed.size() == 1);
  CHECK(installed.at("bash").version == "5.1.8-9.el9");
}

TEST_CASE("rpm query format asks rpm for name tab version-release per line", "[packages]") {
  // rpm expands the backslash escapes itself: the argv carries them as two characters.
  CHECK(k_rpm_query_format == "%{NAME}\\t%{VERSION}-%{RELEASE}\\n");
}

TEST_CASE("versionlock list names the packages that dnf versionlock add locked", "[packages]") {
  const auto names = parse_versionlock_list(
      "# Added lock on Tue Jun 10 12:00:00 2025\n"
      "nvidia-container-toolkit-0:1.17.8-1.*\n"
      "nvidia-container-toolkit-base-0:1.17.8-1.*\n"
      "libnvidia-container1-0:1.17.8-1.*\n");
  CHECK(names == std::set<std::string>{"libnvidia-container1", "nvidia-container-toolkit",
                                       "nvidia-container-toolkit-base"});
}

TEST_CASE("versionlock list reads yum's entries that have no epoch", "[packages]") {
  const auto names = parse_versionlock_list("  nvidia-container-toolkit-1.17.8-1.el9.x86_64  \n"
                                            "kernel-core-5.14.0-427.13.1.el9_4.*\n");
  CHECK(names == std::set<std::string>{"kernel-core", "nvidia-container-toolkit"});
}

TEST_CASE("versionlock list locks nothing for excludes and comments and blank lines", "[packages]") {
  const auto names = parse_versionlock_list("# nvidia-container-toolkit-0:1.17.8-1.*\n"
                                            "!nvidia-container-toolkit-0:1.18.0-1.*\n"
                                            "\n   \n"
                                            "nodashes\n");
  CHECK(names.empty());
}

TEST_CASE("zypp locks name the solvable of each lock entry", "[packages]") {
  const auto names = parse_zypp_locks(
      "type: package\n"
      "match_type: glob\n"
      "case_sensitive: on\n"
      "solvable_name: nvidia-container-toolkit\n"
      "\n"
      "type: package\n"
      "match_type: glob\n"
      "case_sensitive: on\n"
      "  solvable_name:   libnvidia-container1  \n"
      "\n"
      "# solvable_name: commented-out\n");
  CHECK(names == std::set<std::string>{"libnvidia-container1", "nvidia-container-toolkit"});
  CHECK(parse_zypp_locks("").empty());
}
