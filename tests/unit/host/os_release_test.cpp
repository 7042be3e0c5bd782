#include "host/os_release.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "support/temp_root.hpp"

using namespace gns::host;
using gns::test::TempRoot;

TEST_CASE("parse_os_release reads quoted, single-quoted and bare values", "[host]") {
  auto release = parse_os_release(
      "NAME=\"Rocky Linux\"\n"
      "ID='rocky'\n"
      "VERSION_ID=9.4\n"
      "PRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n");
  CHECK(release.id == "rocky");
  CHECK(release.version_id == "9.4");
  CHECK(release.pretty_name == "Rocky Linux 9.4 (Blue Onyx)");
}

TEST_CASE("parse_os_release splits ID_LIKE into words", "[host]") {
  CHECK(parse_os_release("ID_LIKE=\"rhel centos fedora\"\n").id_like ==
        std::vector<std::string>{"rhel", "centos", "fedora"});
  CHECK(parse_os_release("ID_LIKE=debian").id_like == std::vector<std::string>{"debian"});
  CHECK(parse_os_release("ID_LIKE=\"  suse\t opensuse \"").id_like ==
        std::vector<std::string>{"suse", "opensuse"});
  CHECK(parse_os_release("ID=ubuntu\n").id_like.empty());
}

TEST_CASE("parse_os_release ignores comments, blank lines and unknown keys", "[host]") {
  auto release = parse_os_release(
      "# ID=commented-out\n"
      "\n"
      "not a key value line\n"
      "VERSION_CODENAME=bookworm\n"
      "ID=debian\n"
      "VERSION_ID=\"12\"");  // the last line has no newline
  CHECK(release.id == "debian");
  CHECK(release.version_id == "12");
  CHECK(release.pretty_name.empty());
}

TEST_CASE("parse_os_release undoes shell escapes inside quotes", "[host]") {
  auto release = parse_os_release(R"(PRETTY_NAME="Say \"hi\" to \$HOME \\ now")");
  CHECK(release.pretty_name == R"(Say "hi" to $HOME \ now)");
}

TEST_CASE("parse_os_release of empty text knows nothing", "[host]") {
  auto release = parse_os_release("");
  CHECK(release.id.empty());
  CHECK(release.version_id.empty());
  CHECK(release.id_like.empty());
  CHECK(release.pretty_name.empty());
}

TEST_CASE("read_os_release prefers /etc/os-release", "[host]") {
  TempRoot tmp;
  tmp.write("/etc/os-release", "ID=ubuntu\nVERSION_ID=\"22.04\"\nID_LIKE=debian\n");
  tmp.write("/usr/lib/os-release", "ID=wrong\n");
  auto release = read_os_release(HostRoot(tmp.path()));
  REQUIRE(release.has_value());
  CHECK(release->id == "ubuntu");
  CHECK(release->version_id == "22.04");
  CHECK(release->id_like == std::vector<std::string>{"debian"});
}

TEST_CASE("read_os_release follows the usual relative /etc/os-release link", "[host]") {
  TempRoot tmp;
  tmp.write("/usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
  tmp.symlink("../usr/lib/os-release", "/etc/os-release");
  auto release = read_os_release(HostRoot(tmp.path()));
  REQUIRE(release.has_value());
  CHECK(release->id == "debian");
}

TEST_CASE("read_os_release falls back to /usr/lib/os-release", "[host]") {
  TempRoot tmp;
  tmp.write("/usr/lib/os-release", "ID=opensuse-leap\nID_LIKE=\"suse opensuse\"\n");
  auto release = read_os_release(HostRoot(tmp.path()));
  REQUIRE(release.has_value());
  CHECK(release->id == "opensuse-leap");
  CHECK(release->id_like == std::vector<std::string>{"suse", "opensuse"});
}

TEST_CASE("read_os_release is nullopt when neither file exists", "[host]") {
  TempRoot tmp;
  tmp.mkdir("/etc");
  tmp.mkdir("/usr/lib");
  // The machine running the tests has its own /etc/os-release; the root must not see it.
  CHECK_FALSE(read_os_release(HostRoot(tmp.path())).has_value());
}
