#include "packages/package_system.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "error.hpp"
#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::packages;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using Argv = std::vector<std::string>;
using Env = std::vector<std::pair<std::string, std::string>>;

const Env k_apt_env = {{"DEBIAN_FRONTEND", "noninteractive"},
                       {"APT_LISTCHANGES_FRONTEND", "none"},
                       {"NEEDRESTART_MODE", "a"}};

// A host root with `os_release` as its /etc/os-release (none when empty).
struct SystemFixture {
  explicit SystemFixture(const std::string& os_release = "") {
    if (!os_release.empty()) dir.write("/etc/os-release", os_release);
  }
  void install(const std::string& host_path) const {
    dir.write(host_path, "#!/bin/sh\n");
    fs::permissions(dir / host_path, fs::perms(0755));
  }

  test::TempRoot dir;
  host::HostRoot root{dir.path()};
  test::RecordingRunner runner;
};

Family family_of(const std::string& os_release) {
  SystemFixture f(os_release);
  return package_system_for(f.root, std::nullopt).family();
}

PreflightRefused refusal_of(const SystemFixture& f) {
  try {
    package_system_for(f.root, std::nullopt);
  } catch (const PreflightRefused& refused) {
    return refused;
  }
  FAIL("package_system_for accepted the root");
  throw std::logic_error("unreachable");
}

const std::vector<PackageRequest> k_pinned = {{"nvidia-container-toolkit", "1.17.8-1"},
                                              {"libnvidia-container1", "1.17.8-1"}};
const std::vector<PackageRequest> k_newest = {{"nvidia-container-toolkit", std::nullopt}};

}  // namespace

TEST_CASE("package system is apt for Debian and Ubuntu and their derivatives", "[packages]") {
  CHECK(family_of("ID=debian\nVERSION_ID=\"12\"\n") == Family::apt);
  CHECK(family_of("NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n") == Family::apt);
  CHECK(family_of("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n") == Family::apt);
  // An ID this tool has never heard of is placed by its ID_LIKE.
  CHECK(family_of("ID=elementary\nID_LIKE=\"ubuntu debian\"\n") == Family::apt);
}

TEST_CASE("package system is dnf for RHEL and its rebuilds and Fedora and Amazon Linux", "[packages]") {
  CHECK(family_of("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n") == Family::dnf);
  CHECK(family_of("ID=\"rhel\"\nVERSION_ID=\"9.4\"\n") == Family::dnf);
  CHECK(family_of("ID=\"almalinux\"\n") == Family::dnf);
  CHECK(family_of("ID=fedora\nVERSION_ID=40\n") == Family::dnf);
  CHECK(family_of("ID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n") == Family::dnf);
  CHECK(family_of("ID=\"ol\"\nID_LIKE=\"fedora\"\n") == Family::dnf);
  CHECK(family_of("ID=\"eurolinux\"\nID_LIKE=\"rhel fedora centos\"\n") == Family::dnf);
}

TEST_CASE("package system is zypper for SLES and openSUSE", "[packages]") {
  CHECK(family_of("NAME=\"SLES\"\nVERSION_ID=\"15.6\"\nID=\"sles\"\nID_LIKE=\"suse\"\n") == Family::zypper);
  CHECK(family_of("ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n") == Family::zypper);
  CHECK(family_of("ID=\"opensuse-tumbleweed\"\n") == Family::zypper);
}

TEST_CASE("package system reads /usr/lib/os-release when /etc has none", "[packages]") {
  SystemFixture f;
  f.dir.write("/usr/lib/os-release", "ID=debian\n");
  CHECK(package_system_for(f.root, std::nullopt).family() == Family::apt);
}

TEST_CASE("package system refuses a root without os-release as an unsupported distro", "[packages]") {
  SystemFixture f;
  const auto refused = refusal_of(f);
  CHECK(refused.reason() == PreflightRefused::Reason::unsupported_distro);
  CHECK_THAT(refused.what(), Catch::Contains("no /etc/os-release"));
  CHECK_THAT(refused.what(), Catch::Contains("apply --stages nouveau,runtime"));
}

TEST_CASE("package system refuses Arch Linux by its pretty name", "[packages]") {
  SystemFixture f("NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\n");
  const auto refused = refusal_of(f);
  CHECK(refused.reason() == PreflightRefused::Reason::unsupported_distro);
  CHECK_THAT(refused.what(), Catch::StartsWith("unsupported distribution \"Arch Linux\""));
  CHECK_THAT(refused.what(), Catch::Contains("apt (Debian, Ubuntu)"));
}

TEST_CASE("package system names an unsupported distro by its ID without a pretty name", "[packages]") {
  SystemFixture f("ID=gentoo\nID_LIKE=\"\"\n");
  CHECK_THAT(refusal_of(f).what(), Catch::StartsWith("unsupported distribution \"gentoo\""));
}

TEST_CASE("package family names read back and nothing else parses", "[packages]") {
  for (auto family : {Family::apt, Family::dnf, Family::zypper}) {
    INFO(to_string(family));
    CHECK(parse_family(to_string(family)) == family);
  }
  CHECK(to_string(Family::zypper) == "zypper");
  CHECK_FALSE(parse_family("yum"));
  CHECK_FALSE(parse_family(""));
  CHECK_FALSE(parse_family("APT"));
}

TEST_CASE("apt installed reads dpkg status and runs nothing", "[packages]") {
  SystemFixture f;
  f.dir.write("/var/lib/dpkg/status",
              "Package: nvidia-container-toolkit\nStatus: hold ok installed\nVersion: 1.17.8-1\n");
  const auto installed = PackageSystem(Family::apt, std::nullopt).installed(f.root, f.runner);
  REQUIRE(installed.size() == 1);
  CHECK(installed.at("nvidia-container-toolkit").held);
  CHECK(f.runner.commands().empty());
}

TEST_CASE("apt installed without a dpkg status file is an error", "[packages]") {
  SystemFixture f;
  CHECK_THROWS_AS(PackageSystem(Family::apt, std::nullopt).installed(f.root, f.runner), Error);
}

TEST_CASE("dnf installed asks rpm and marks what the versionlock list locks", "[packages]") {
  SystemFixture f;
  f.dir.write("/etc/dnf/plugins/versionlock.list",
              "# Added lock\nnvidia-container-toolkit-0:1.17.8-1.*\nnot-installed-0:1.0-1.*\n");
  f.runner.respond("rpm", {0, std::nullopt, false,
                           "nvidia-container-toolkit\t1.17.8-1\nlibnvidia-container1\t1.17.8-1\n", ""});
  const auto installed = PackageSystem(Family::dnf, std::nullopt).installed(f.root, f.runner);
  REQUIRE(f.runner.commands().size() == 1);
  const auto& query = f.runner.commands()[0];
  CHECK(query.argv() == Argv{"rpm", "-qa", "--queryformat", "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"});
  CHECK(query.timeout == 1min);
  REQUIRE(installed.size() == 2);  // a lock on a package that is not installed adds nothing
  CHECK(installed.at("nvidia-container-toolkit").held);
  CHECK_FALSE(installed.at("libnvidia-container1").held);
}

TEST_CASE("dnf installed without a versionlock list holds nothing", "[packages]") {
  SystemFixture f;
  f.runner.respond("rpm", {0, std::nullopt, false, "nvidia-container-toolkit\t1.17.8-1\n", ""});
  const auto installed = PackageSystem(Family::dnf, std::nullopt).installed(f.root, f.runner);
  REQUIRE(installed.size() == 1);
  CHECK_FALSE(installed.at("nvidia-container-toolkit").held);
}

TEST_CASE("zypper installed asks rpm and marks what the zypp locks lock", "[packages]") {
  SystemFixture f;
  f.dir.write("/etc/zypp/locks", "type: package\nmatch_type: glob\nsolvable_name: libnvidia-container1\n");
  f.dir.write("/etc/dnf/plugins/versionlock.list", "nvidia-container-toolkit-0:1.17.8-1.*\n");
  f.runner.respond("rpm", {0, std::nullopt, false,
                           "nvidia-container-toolkit\t1.17.8-1\nlibnvidia-container1\t1.17.8-1\n", ""});
  const auto installed = PackageSystem(Family::zypper, std::nullopt).installed(f.root, f.runner);
  CHECK(f.runner.argvs().at(0).at(0) == "rpm");
  CHECK(installed.at("libnvidia-container1").held);
  CHECK_FALSE(installed.at("nvidia-container-toolkit").held);  // dnf's list means nothing here
}

TEST_CASE("rpm installed fails with the query's command when rpm fails", "[packages]") {
  SystemFixture f;
  f.runner.respond("rpm", {1, std::nullopt, false, "", "error: rpmdb open failed\n"});
  CHECK_THROWS_AS(PackageSystem(Family::dnf, std::nullopt).installed(f.root, f.runner), CommandFailed);
}

TEST_CASE("require programs refuses a host that lacks one of its family's tools", "[packages]") {
  SystemFixture f;
  f.install("/usr/bin/zypper");
  const PackageSystem zypper(Family::zypper, std::nullopt);
  try {
    zypper.require_programs(f.root);
    FAIL("a root without rpm was accepted");
  } catch (const PreflightRefused& refused) {
    CHECK(refused.reason() == PreflightRefused::Reason::unsupported_distro);
    CHECK_THAT(refused.what(), Catch::Contains("uses zypper, but rpm is not installed"));
  }
  f.install("/bin/rpm");
  CHECK_NOTHROW(zypper.require_programs(f.root));
  // apt needs apt-get, apt-mark and dpkg; a root with only the rpm tools has none of them.
  CHECK_THROWS_AS(PackageSystem(Family::apt, std::nullopt).require_programs(f.root), PreflightRefused);
}

TEST_CASE("require programs does not count a file without an execute bit", "[packages]") {
  SystemFixture f;
  f.install("/usr/bin/dnf");
  f.dir.write("/usr/bin/rpm", "#!/bin/sh\n");
  fs::permissions(f.dir / "/usr/bin/rpm", fs::perms(0644));
  CHECK_THROWS_WITH(PackageSystem(Family::dnf, std::nullopt).require_programs(f.root),
                    Catch::Contains("rpm is not installed"));
}

TEST_CASE("hold file is the versionlock list or the zypp locks and none for apt", "[packages]") {
  CHECK_FALSE(PackageSystem(Family::apt, std::nullopt).hold_file());
  CHECK(PackageSystem(Family::dnf, std::nullopt).hold_file() == "/etc/dnf/plugins/versionlock.list");
  CHECK(PackageSystem(Family::zypper, std::nullopt).hold_file() == "/etc/zypp/locks");
}

TEST_CASE("dnf without the versionlock plugin needs its package to hold", "[packages]") {
  SystemFixture f;
  const PackageSystem dnf(Family::dnf, std::nullopt);
  CHECK(dnf.hold_support_packages(f.root) == Argv{"python3-dnf-plugin-versionlock"});
  CHECK(PackageSystem(Family::apt, std::nullopt).hold_support_packages(f.root).empty());
  CHECK(PackageSystem(Family::zypper, std::nullopt).hold_support_packages(f.root).empty());
  f.dir.write("/etc/dnf/plugins/versionlock.conf", "[main]\nenabled = 1\n");
  CHECK(dnf.hold_support_packages(f.root).empty());
}

TEST_CASE("apt refresh updates only the one source list and fails on a bad signature", "[packages]") {
  const auto refresh = PackageSystem(Family::apt, std::nullopt)
                           .refresh("/etc/apt/sources.list.d/nvidia-container-toolkit.list",
                                    "nvidia-container-toolkit");
  REQUIRE(refresh);
  CHECK(refresh->argv() ==
        Argv{"apt-get", "update", "-o",
             "Dir::Etc::SourceList=/etc/apt/sources.list.d/nvidia-container-toolkit.list", "-o",
             "Dir::Etc::SourceParts=-", "-o", "APT::Get::List-Cleanup=0", "-o",
             "APT::Update::Error-Mode=any"});
  CHECK(refresh->env == k_apt_env);
  CHECK(refresh->timeout == 5min);
}

TEST_CASE("zypper refresh names the repository and dnf needs none", "[packages]") {
  const auto zypper = PackageSystem(Family::zypper, std::nullopt)
                          .refresh("/etc/zypp/repos.d/nvidia-container-toolkit.repo",
                                   "nvidia-container-toolkit");
  REQUIRE(zypper);
  CHECK(zypper->argv() == Argv{"zypper", "--non-interactive", "--gpg-auto-import-keys", "refresh",
                               "nvidia-container-toolkit"});
  CHECK(zypper->env.empty());
  CHECK(zypper->timeout == 5min);
  CHECK_FALSE(PackageSystem(Family::dnf, std::nullopt).refresh("/etc/yum.repos.d/x.repo", "x"));
}

TEST_CASE("apt install pins with name=version and keeps the host's config files", "[packages]") {
  const auto install = PackageSystem(Family::apt, std::nullopt).install(k_pinned);
  CHECK(install.argv() ==
        Argv{"apt-get", "install", "-y", "--no-install-recommends", "--allow-downgrades", "-o",
             "Dpkg::Use-Pty=0", "-o", "Dpkg::Options::=--force-confdef", "-o",
             "Dpkg::Options::=--force-confold", "nvidia-container-toolkit=1.17.8-1",
             "libnvidia-container1=1.17.8-1"});
  CHECK(install.env == k_apt_env);
  CHECK(install.timeout == 30min);
  CHECK(PackageSystem(Family::apt, std::nullopt).install(k_newest).argv().back() ==
        "nvidia-container-toolkit");
}

TEST_CASE("dnf install pins with name-version and leaves weak dependencies out", "[packages]") {
  const PackageSystem dnf(Family::dnf, std::nullopt);
  const auto install = dnf.install(k_pinned);
  CHECK(install.argv() == Argv{"dnf", "-y", "--setopt=install_weak_deps=False", "install",
                               "nvidia-container-toolkit-1.17.8-1", "libnvidia-container1-1.17.8-1"});
  CHECK(install.env.empty());
  CHECK(install.timeout == 30min);
  CHECK(dnf.install(k_newest).argv() ==
        Argv{"dnf", "-y", "--setopt=install_weak_deps=False", "install", "nvidia-container-toolkit"});
}

TEST_CASE("zypper install pins with name=version and may downgrade", "[packages]") {
  const auto install = PackageSystem(Family::zypper, std::nullopt).install(k_pinned);
  CHECK(install.argv() == Argv{"zypper", "--non-interactive", "--gpg-auto-import-keys", "install",
                               "--no-recommends", "--oldpackage",
                               "nvidia-container-toolkit=1.17.8-1", "libnvidia-container1=1.17.8-1"});
  CHECK(install.timeout == 30min);
}

// dnf gets -y here too: loading the repositories may ask to import a key, and a question read
// from /dev/null is answered "no".
TEST_CASE("hold and release use each family's own lock command", "[packages]") {
  const Argv names = {"nvidia-container-toolkit", "libnvidia-container1"};
  const PackageSystem apt(Family::apt, std::nullopt);
  const PackageSystem dnf(Family::dnf, std::nullopt);
  const PackageSystem zypper(Family::zypper, std::nullopt);
  CHECK(apt.hold(names).argv() == Argv{"apt-mark", "hold", "nvidia-container-toolkit", "libnvidia-container1"});
  CHECK(apt.release(names).argv() == Argv{"apt-mark", "unhold", "nvidia-container-toolkit", "libnvidia-container1"});
  CHECK(dnf.hold(names).argv() == Argv{"dnf", "-y", "versionlock", "add", "nvidia-container-toolkit", "libnvidia-container1"});
  CHECK(dnf.release(names).argv() == Argv{"dnf", "-y", "versionlock", "delete", "nvidia-container-toolkit", "libnvidia-container1"});
  CHECK(zypper.hold(names).argv() == Argv{"zypper", "--non-interactive", "addlock", "nvidia-container-toolkit", "libnvidia-container1"});
  CHECK(zypper.release(names).argv() == Argv{"zypper", "--non-interactive", "removelock", "nvidia-container-toolkit", "libnvidia-container1"});
  CHECK(apt.hold(names).env == k_apt_env);
  CHECK(apt.hold(names).timeout == 2min);
  CHECK(zypper.release(names).timeout == 2min);
}

TEST_CASE("remove uses dpkg or rpm so that no dependent or dependency goes with it", "[packages]") {
  const Argv names = {"nvidia-container-toolkit", "libnvidia-container-test-dep"};
  const auto apt = PackageSystem(Family::apt, std::nullopt).remove(names);
  CHECK(apt.argv() == Argv{"dpkg", "--purge", "nvidia-container-toolkit", "libnvidia-container-test-dep"});
  CHECK(apt.env == k_apt_env);
  CHECK(apt.timeout == 10min);
  CHECK(PackageSystem(Family::dnf, std::nullopt).remove(names).argv() ==
        Argv{"rpm", "-e", "nvidia-container-toolkit", "libnvidia-container-test-dep"});
  CHECK(PackageSystem(Family::zypper, std::nullopt).remove(names).argv() ==
        Argv{"rpm", "-e", "nvidia-container-toolkit", "libnvidia-container-test-dep"});
}

TEST_CASE("a proxy goes to every package command as http_proxy and https_proxy", "[packages]") {
  const std::string proxy = "http://proxy.example:3128";
  const Env proxy_env = {{"http_proxy", proxy}, {"https_proxy", proxy}};
  Env apt_env = k_apt_env;
  apt_env.insert(apt_env.end(), proxy_env.begin(), proxy_env.end());

  const PackageSystem apt(Family::apt, proxy);
  CHECK(apt.refresh("/etc/apt/sources.list.d/x.list", "x")->env == apt_env);
  CHECK(apt.install(k_pinned).env == apt_env);
  const PackageSystem dnf(Family::dnf, proxy);
  CHECK(dnf.install(k_pinned).env == proxy_env);
  CHECK(dnf.hold({"a"}).env == proxy_env);
  const PackageSystem zypper(Family::zypper, proxy);
  CHECK(zypper.refresh("/etc/zypp/repos.d/x.repo", "x")->env == proxy_env);
  CHECK(zypper.install(k_pinned).env == proxy_env);
  CHECK(zypper.remove({"a"}).env == proxy_env);
}
