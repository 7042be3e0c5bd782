#include "stages/toolkit_stage.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "error.hpp"
#include "packages/repository.hpp"
#include "stages/engine.hpp"
#include "stages/journal.hpp"
#include "support/package_commands.hpp"
#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"
#include "util/sha256.hpp"

using namespace gns;
using namespace gns::stages;
namespace fs = std::filesystem;

namespace {

using Argv = std::vector<std::string>;
using test::apt_install;
using test::concat;
using test::dpkg_stanza;
using test::k_rpm_query;
using test::output;

const std::string& k_debian = test::k_debian_os_release;
const std::string& k_rocky = test::k_rocky_os_release;
const std::string& k_sles = test::k_sles_os_release;

const std::string k_key = test::k_armoured_test_key;
const std::string k_key_url = "file:///etc/gns/nvidia.asc";

const std::string k_apt_list = "/etc/apt/sources.list.d/nvidia-container-toolkit.list";
const std::string k_asc_keyring = "/usr/share/keyrings/nvidia-container-toolkit-keyring.asc";
const std::string k_gpg_keyring = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg";
const std::string k_yum_repo = "/etc/yum.repos.d/nvidia-container-toolkit.repo";
const std::string k_zypp_repo = "/etc/zypp/repos.d/nvidia-container-toolkit.repo";
const std::string k_versionlock_list = "/etc/dnf/plugins/versionlock.list";
const std::string k_zypp_locks = "/etc/zypp/locks";

const Argv k_toolkit = {"nvidia-container-toolkit", "nvidia-container-toolkit-base",
                        "libnvidia-container-tools", "libnvidia-container1"};

// Each toolkit package with `separator` and `version` after its name: the install arguments.
Argv pinned(const std::string& separator, const std::string& version) {
  Argv names;
  for (const auto& name : k_toolkit) names.push_back(name + separator + version);
  return names;
}

const Argv k_apt_refresh = test::apt_refresh(k_apt_list);

// dpkg's status with the four toolkit packages at `version` in `status`, and another package.
std::string toolkit_dpkg(const std::string& version, const std::string& status) {
  std::string text = dpkg_stanza("bash", "5.2.15-2+b7");
  for (const auto& name : k_toolkit) text += dpkg_stanza(name, version, status);
  return text;
}

// `rpm -qa` output: bash, and the toolkit packages at `version` unless it is empty.
std::string rpm_output(const std::string& version) {
  std::string out = "bash\t5.1.8-9.el9\n";
  if (!version.empty())
    for (const auto& name : k_toolkit) out += name + "\t" + version + "\n";
  return out;
}


std::string zypp_lock(const std::string& name) {
  return "type: package\nmatch_type: glob\ncase_sensitive: on\nsolvable_name: " + name + "\n\n";
}

// A host root with `os_release` (none when empty), the site's key as a file in it, and the
// package tools `programs` in /usr/bin.
struct ToolkitFixture {
  explicit ToolkitFixture(const std::string& os_release, const Argv& programs = {}) {
    if (!os_release.empty()) dir.write("/etc/os-release", os_release);
    for (const auto& program : programs) install("/usr/bin/" + program);
    dir.write("/etc/gns/nvidia.asc", k_key);
    settings.toolkit.key_url = k_key_url;
  }
  void install(const std::string& host_path) const {
    dir.write(host_path, "#!/bin/sh\n");
    fs::permissions(dir / host_path, fs::perms(0755));
  }
  ToolkitStage stage() const { return ToolkitStage(settings); }
  // The repository file as the stage writes it for `family`.
  std::string rendered(packages::Family family, const std::string& keyring = "") const {
    const auto url = settings.toolkit.repository_url.value_or(std::string(
        family == packages::Family::apt ? k_nvidia_toolkit_apt_url : k_nvidia_toolkit_rpm_url));
    return packages::render_repository_file(
        family,
        {"nvidia-container-toolkit", "NVIDIA Container Toolkit", url,
         settings.toolkit.key_url.value_or(std::string(k_nvidia_toolkit_key_url))},
        keyring, settings.runtime.templates_dir);
  }

  test::TempRoot dir;
  host::HostRoot root{dir.path()};
  test::RecordingRunner runner;
  StageContext ctx{root, runner};
  Settings settings;
};

const Argv k_apt_programs = {"apt-get", "apt-mark", "dpkg"};

Argv argvs_of(const StagePlan& plan) {
  Argv lines;
  for (const auto& planned : plan.commands) lines.push_back(format_command_line(planned.command.argv()));
  return lines;
}

std::string line(const Argv& argv) { return format_command_line(argv); }

PreflightRefused refusal_of(const ToolkitFixture& f) {
  try {
    f.stage().plan(f.ctx);
  } catch (const PreflightRefused& refused) {
    return refused;
  }
  FAIL("plan accepted the root");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("toolkit packages are the toolkit and its three companions", "[toolkit]") {
  CHECK(toolkit_packages() == k_toolkit);
}

TEST_CASE("toolkit stage on an apt host with all installed and held plans nothing and runs nothing",
          "[toolkit]") {
  ToolkitFixture f(k_debian);  // no apt tools even: nothing needs them
  f.dir.write("/var/lib/dpkg/status", toolkit_dpkg("1.17.8-1", "hold ok installed"));
  for (const auto& pin : {std::optional<std::string>(), std::optional<std::string>("1.17.8-1")}) {
    INFO(pin.value_or("no pin"));
    f.settings.toolkit.version = pin;
    const auto plan = f.stage().plan(f.ctx);
    CHECK(plan.empty());
    CHECK(plan.files_changed_by_commands.empty());
    CHECK_FALSE(plan.undo_after_commands);
    REQUIRE(plan.notes.size() == 1);
    CHECK(plan.notes[0] ==
          "nvidia-container-toolkit 1.17.8-1 and its companion packages are installed and held");
    const auto inspection = f.stage().inspect(f.ctx, nullptr);
    CHECK(inspection.state == StageState::applied);
    CHECK(inspection.detail == plan.notes[0]);
  }
  CHECK(f.runner.commands().empty());
}

TEST_CASE("toolkit stage on a fresh apt host writes keyring and source list then installs and holds",
          "[toolkit]") {
  ToolkitFixture f(k_debian, k_apt_programs);
  f.dir.write("/var/lib/dpkg/status", dpkg_stanza("bash", "5.2.15-2+b7"));
  const auto plan = f.stage().plan(f.ctx);

  REQUIRE(plan.edits.size() == 2);
  CHECK(plan.edits[0].path == k_asc_keyring);  // an armoured key: apt reads it as .asc
  CHECK_FALSE(plan.edits[0].before);
  CHECK(plan.edits[0].after == k_key);
  CHECK(plan.edits[1].path == k_apt_list);
  CHECK_FALSE(plan.edits[1].before);
  CHECK(plan.edits[1].after ==
        "# Written by gpu-node-setup: NVIDIA Container Toolkit. `gpu-node-setup revert` removes it.\n"
        "deb [signed-by=" + k_asc_keyring + "] "
        "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n");

  CHECK(argvs_of(plan) == Argv{line(k_apt_refresh), line(apt_install(k_toolkit)),
                               line(concat({"apt-mark", "hold"}, k_toolkit))});
  CHECK(plan.commands[1].command.env.at(0) == std::pair<std::string, std::string>{"DEBIAN_FRONTEND", "noninteractive"});
  CHECK(plan.files_changed_by_commands.empty());  // apt's holds are dpkg state
  CHECK(plan.undo.at("family") == "apt");
  CHECK(plan.undo.at("before:nvidia-container-toolkit") == nlohmann::json{{"version", nullptr}, {"held", false}});
  CHECK(plan.undo_after_commands);
  CHECK(f.runner.commands().empty());  // the key is a file: nothing was run to plan
}

TEST_CASE("toolkit stage installs every package at a pinned version", "[toolkit]") {
  ToolkitFixture f(k_debian, k_apt_programs);
  f.dir.write("/var/lib/dpkg/status", "");
  f.settings.toolkit.version = "1.17.8-1";
  const auto plan = f.stage().plan(f.ctx);
  REQUIRE(plan.commands.size() == 3);
  CHECK(plan.commands[1].command.argv() == apt_install(pinned("=", "1.17.8-1")));
  CHECK(plan.commands[1].reason == "the toolkit, every package at 1.17.8-1");
}

TEST_CASE("toolkit stage has apply download NVIDIA's key with apt-helper when none is configured",
          "[toolkit]") {
  ToolkitFixture f(k_debian, k_apt_programs);
  f.install("/usr/lib/apt/apt-helper");
  f.settings.toolkit.key_url.reset();
  f.dir.write("/var/lib/dpkg/status", "");
  test::RecordingRunner runner;
  const StageContext ctx{f.root, runner};

  // plan runs nothing and needs no network: the download is apply's first command, and the
  // keyring it writes is journaled like an edit.
  const auto plan = f.stage().plan(ctx);
  CHECK(runner.commands().empty());
  const std::string keyring = "/usr/share/keyrings/nvidia-container-toolkit-keyring.asc";
  REQUIRE(plan.commands.size() == 4);
  CHECK(plan.commands[0].command.argv() ==
        std::vector<std::string>{"/usr/lib/apt/apt-helper", "download-file",
                                 "https://nvidia.github.io/libnvidia-container/gpgkey", keyring});
  CHECK(std::count(plan.files_changed_by_commands.begin(), plan.files_changed_by_commands.end(), keyring) == 1);
  REQUIRE(plan.edits.size() == 1);
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("[signed-by=" + keyring + "]"));
}

TEST_CASE("toolkit stage sends the site proxy to the key download and every package command",
          "[toolkit]") {
  ToolkitFixture f(k_debian, k_apt_programs);
  f.install("/usr/lib/apt/apt-helper");
  f.settings.toolkit.key_url.reset();
  f.settings.proxy = "http://proxy.example:3128";
  f.dir.write("/var/lib/dpkg/status", "");
  const auto plan = f.stage().plan(f.ctx);
  const std::pair<std::string, std::string> http{"http_proxy", "http://proxy.example:3128"};
  const std::pair<std::string, std::string> https{"https_proxy", "http://proxy.example:3128"};
  REQUIRE(plan.commands.size() == 4);
  CHECK(plan.commands[0].command.program == "/usr/lib/apt/apt-helper");
  for (const auto& planned : plan.commands) {
    INFO(format_command_line(planned.command.argv()));
    const auto& env = planned.command.env;
    CHECK(std::count(env.begin(), env.end(), http) == 1);
    CHECK(std::count(env.begin(), env.end(), https) == 1);
  }
}

TEST_CASE("toolkit stage without apt-helper for an https key fails before changing anything",
          "[toolkit]") {
  ToolkitFixture f(k_debian, k_apt_programs);
  f.settings.toolkit.key_url.reset();
  f.dir.write("/var/lib/dpkg/status", "");
  CHECK_THROWS_WITH(f.stage().plan(f.ctx), Catch::Contains("apt-helper is not installed"));
  CHECK(f.runner.commands().empty());
}

TEST_CASE("toolkit stage moves held packages to a new pin and reuses its own source list",
          "[toolkit]") {
  ToolkitFixture f(k_debian, k_apt_programs);
  f.dir.write("/var/lib/dpkg/status",
              dpkg_stanza("nvidia-container-toolkit", "1.17.8-1", "hold ok installed") +
                  dpkg_stanza("nvidia-container-toolkit-base", "1.17.8-1", "hold ok installed") +
                  dpkg_stanza("libnvidia-container-tools", "1.17.8-1") +
                  dpkg_stanza("libnvidia-container1", "1.17.8-1"));
  f.dir.write(k_asc_keyring, k_key);
  f.dir.write(k_apt_list, f.rendered(packages::Family::apt, k_asc_keyring));
  f.settings.toolkit.key_url.reset();  // NVIDIA's https key: a download would fail here
  f.settings.toolkit.version = "1.18.0-1";

  const auto inspection = f.stage().inspect(f.ctx, nullptr);
  CHECK(inspection.state == StageState::pending);
  CHECK(inspection.detail ==
        "not at 1.18.0-1: nvidia-container-toolkit (1.17.8-1), nvidia-container-toolkit-base "
        "(1.17.8-1), libnvidia-container-tools (1.17.8-1), libnvidia-container1 (1.17.8-1)");

  const auto plan = f.stage().plan(f.ctx);
  CHECK(plan.edits.empty());  // the source list and keyring are as the stage writes them
  CHECK(argvs_of(plan) ==
        Argv{line(k_apt_refresh),
             line({"apt-mark", "unhold", "nvidia-container-toolkit", "nvidia-container-toolkit-base"}),
             line(apt_install(pinned("=", "1.18.0-1"))), line(concat({"apt-mark", "hold"}, k_toolkit))});
  CHECK(plan.undo.at("before:nvidia-container-toolkit") ==
        nlohmann::json{{"version", "1.17.8-1"}, {"held", true}});
  CHECK(plan.undo.at("before:libnvidia-container1") ==
        nlohmann::json{{"version", "1.17.8-1"}, {"held", false}});
  CHECK(f.runner.commands().empty());
}

TEST_CASE("toolkit stage rewrites its own source list for a new mirror and keeps an equal keyring",
          "[toolkit]") {
  ToolkitFixture f(k_debian, k_apt_programs);
  f.dir.write("/var/lib/dpkg/status", "");
  f.dir.write(k_asc_keyring, k_key);
  const auto old_list = f.rendered(packages::Family::apt, k_asc_keyring);
  f.dir.write(k_apt_list, old_list);
  f.settings.toolkit.repository_url = "https://mirror.example/nvidia/deb/$(ARCH)";
  const auto plan = f.stage().plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == k_apt_list);
  CHECK(plan.edits[0].before == old_list);
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("] https://mirror.example/nvidia/deb/$(ARCH) /\n"));
}

TEST_CASE("toolkit stage uses a source list someone else wrote as it is", "[toolkit]") {
  ToolkitFixture f(k_debian, k_apt_programs);
  f.dir.write("/var/lib/dpkg/status", "");
  const std::string theirs =
      "deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] "
      "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n";
  f.dir.write(k_apt_list, theirs);
  f.settings.toolkit.key_url.reset();  // not fetched: the file names its own keyring
  const auto plan = f.stage().plan(f.ctx);
  CHECK(plan.edits.empty());
  REQUIRE(plan.notes.size() == 1);
  CHECK(plan.notes[0] == k_apt_list + " was not written by gpu-node-setup: it is used as it is");
  REQUIRE_FALSE(plan.commands.empty());
  CHECK(plan.commands[0].command.argv() == k_apt_refresh);
  CHECK(test::read_file(f.dir / k_apt_list) == theirs);
  CHECK(f.runner.commands().empty());
}

TEST_CASE("toolkit stage on an apt host with the toolkit unheld only holds what is unheld",
          "[toolkit]") {
  ToolkitFixture f(k_debian, k_apt_programs);
  f.dir.write("/var/lib/dpkg/status",
              dpkg_stanza("nvidia-container-toolkit", "1.17.8-1", "hold ok installed") +
                  dpkg_stanza("nvidia-container-toolkit-base", "1.17.8-1") +
                  dpkg_stanza("libnvidia-container-tools", "1.17.8-1", "hold ok installed") +
                  dpkg_stanza("libnvidia-container1", "1.17.8-1"));
  f.settings.toolkit.version = "1.17.8-1";
  CHECK(f.stage().inspect(f.ctx, nullptr).detail ==
        "not held: nvidia-container-toolkit-base, libnvidia-container1");
  const auto plan = f.stage().plan(f.ctx);
  CHECK(plan.edits.empty());  // no repository is needed to hold what is installed
  CHECK(argvs_of(plan) == Argv{line({"apt-mark", "hold", "nvidia-container-toolkit-base", "libnvidia-container1"})});
  CHECK(plan.commands[0].reason == "an unattended upgrade must not move the toolkit under running containers");
}

TEST_CASE("toolkit stage refuses a host without os-release as an unsupported distro", "[toolkit]") {
  ToolkitFixture f("");
  const auto refused = refusal_of(f);
  CHECK(refused.reason() == PreflightRefused::Reason::unsupported_distro);
  const auto inspection = f.stage().inspect(f.ctx, nullptr);
  CHECK(inspection.state == StageState::not_applicable);
  CHECK_THAT(inspection.detail, Catch::Contains("no /etc/os-release"));
  CHECK(f.runner.commands().empty());
}

TEST_CASE("toolkit stage refuses Arch Linux as an unsupported distro", "[toolkit]") {
  ToolkitFixture f("NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\n", {"pacman"});
  const auto refused = refusal_of(f);
  CHECK(refused.reason() == PreflightRefused::Reason::unsupported_distro);
  CHECK_THAT(refused.what(), Catch::Contains("\"Arch Linux\""));
  const auto inspection = f.stage().inspect(f.ctx, nullptr);
  CHECK(inspection.state == StageState::not_applicable);
  CHECK(inspection.detail == refused.what());
}

TEST_CASE("toolkit stage refuses an apt host without the apt tools before planning a change",
          "[toolkit]") {
  ToolkitFixture f(k_debian, {"dpkg", "apt-mark"});
  f.dir.write("/var/lib/dpkg/status", "");
  const auto refused = refusal_of(f);
  CHECK(refused.reason() == PreflightRefused::Reason::unsupported_distro);
  CHECK_THAT(refused.what(), Catch::Contains("apt-get is not installed"));
}

TEST_CASE("toolkit stage inspect says what is missing and drift after its own apply", "[toolkit]") {
  ToolkitFixture f(k_debian);
  f.dir.write("/var/lib/dpkg/status", dpkg_stanza("nvidia-container-toolkit", "1.17.8-1") +
                                          dpkg_stanza("libnvidia-container1", "1.17.8-1"));
  const auto pending = f.stage().inspect(f.ctx, nullptr);
  CHECK(pending.state == StageState::pending);
  CHECK(pending.detail == "not installed: nvidia-container-toolkit-base, libnvidia-container-tools");
  const StageRecord applied;
  const auto drifted = f.stage().inspect(f.ctx, &applied);
  CHECK(drifted.state == StageState::drifted);
  CHECK(drifted.detail == pending.detail + " (changed since gpu-node-setup installed it)");
}

TEST_CASE("toolkit stage on SLES adds its zypper repository then refreshes and installs and locks",
          "[toolkit]") {
  ToolkitFixture f(k_sles, {"zypper", "rpm"});
  f.settings.toolkit.version = "1.17.8-1";
  f.runner.respond("rpm", output(rpm_output("")));
  const auto plan = f.stage().plan(f.ctx);

  REQUIRE(plan.edits.size() == 1);  // no keyring: zypper imports the key the .repo names
  CHECK(plan.edits[0].path == k_zypp_repo);
  CHECK_FALSE(plan.edits[0].before);
  CHECK(plan.edits[0].after ==
        "# Written by gpu-node-setup: NVIDIA Container Toolkit. `gpu-node-setup revert` removes it.\n"
        "# dnf and zypper read this; the key checks the repository's metadata (repo_gpgcheck, as\n"
      "# NVIDIA's container toolkit repository is signed) or each package (gpgcheck, as CUDA's).\n"
        "[nvidia-container-toolkit]\n"
        "name=NVIDIA Container Toolkit\n"
        "baseurl=https://nvidia.github.io/libnvidia-container/stable/rpm/$basearch\n"
        "enabled=1\ngpgcheck=0\nrepo_gpgcheck=1\n"
        "gpgkey=file:///etc/gns/nvidia.asc\n");
  REQUIRE(plan.commands.size() == 3);
  CHECK(plan.commands[0].command.argv() == Argv{"zypper", "--non-interactive", "--gpg-auto-import-keys",
                                                "refresh", "nvidia-container-toolkit"});
  CHECK(plan.commands[1].command.argv() ==
        concat({"zypper", "--non-interactive", "--gpg-auto-import-keys", "install", "--no-recommends",
                "--oldpackage"},
               pinned("=", "1.17.8-1")));
  CHECK(plan.commands[2].command.argv() == concat({"zypper", "--non-interactive", "addlock"}, k_toolkit));
  CHECK(plan.files_changed_by_commands == Argv{k_zypp_locks});
  CHECK(plan.undo.at("family") == "zypper");
  // Planning asked rpm what is installed, and nothing else.
  REQUIRE(f.runner.commands().size() == 1);
  CHECK(f.runner.commands()[0].argv() ==
        Argv{"rpm", "-qa", "--queryformat", "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"});
}

TEST_CASE("toolkit stage on SLES removes its locks before moving to a new pin", "[toolkit]") {
  ToolkitFixture f(k_sles, {"zypper", "rpm"});
  f.dir.write(k_zypp_locks, zypp_lock("nvidia-container-toolkit") + zypp_lock("libnvidia-container1"));
  f.dir.write(k_zypp_repo, f.rendered(packages::Family::zypper));
  f.settings.toolkit.version = "1.18.0-1";
  f.runner.respond("rpm", output(rpm_output("1.17.8-1")));
  const auto plan = f.stage().plan(f.ctx);
  CHECK(plan.edits.empty());  // its .repo is there as it would write it
  CHECK(argvs_of(plan) ==
        Argv{line({"zypper", "--non-interactive", "--gpg-auto-import-keys", "refresh", "nvidia-container-toolkit"}),
             line({"zypper", "--non-interactive", "removelock", "nvidia-container-toolkit", "libnvidia-container1"}),
             line(concat({"zypper", "--non-interactive", "--gpg-auto-import-keys", "install",
                          "--no-recommends", "--oldpackage"},
                         pinned("=", "1.18.0-1"))),
             line(concat({"zypper", "--non-interactive", "addlock"}, k_toolkit))});
}

TEST_CASE("toolkit stage on SLES with all installed and locked plans nothing", "[toolkit]") {
  ToolkitFixture f(k_sles, {"zypper", "rpm"});
  std::string locks;
  for (const auto& name : k_toolkit) locks += zypp_lock(name);
  f.dir.write(k_zypp_locks, locks);
  f.runner.respond("rpm", output(rpm_output("1.17.8-1")));
  f.runner.respond("rpm", output(rpm_output("1.17.8-1")));
  CHECK(f.stage().plan(f.ctx).empty());
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::applied);
  CHECK(f.runner.argvs().size() == 2);  // rpm -qa twice, zypper never
}

TEST_CASE("toolkit stage revert on SLES removes only what it added and leaves the locks to the file",
          "[toolkit]") {
  ToolkitFixture f(k_sles, {"zypper", "rpm"});
  std::string locks;
  for (const auto& name : k_toolkit) locks += zypp_lock(name);
  f.dir.write(k_zypp_locks, locks);
  f.runner.respond("rpm", output(rpm_output("1.17.8-1") + "libnvidia-container-test-dep\t1.0-1\n"));
  const nlohmann::json undo = {
      {"family", "zypper"},
      {"before:nvidia-container-toolkit", {{"version", nullptr}, {"held", false}}},
      {"before:nvidia-container-toolkit-base", {{"version", nullptr}, {"held", false}}},
      {"before:libnvidia-container-tools", {{"version", "1.17.8-1"}, {"held", false}}},
      {"before:libnvidia-container1", {{"version", "1.17.8-1"}, {"held", true}}},
      {"added:nvidia-container-toolkit", "1.17.8-1"},
      {"added:nvidia-container-toolkit-base", "1.17.8-1"},
      {"added:libnvidia-container-test-dep", "1.0-1"},
      {"added:removed-since", "2.0-1"}};
  const auto commands = f.stage().commands_after_revert(f.ctx, undo);
  REQUIRE(commands.size() == 1);  // no removelock: revert restores /etc/zypp/locks itself
  CHECK(commands[0].command.argv() == Argv{"rpm", "-e", "libnvidia-container-test-dep",
                                           "nvidia-container-toolkit", "nvidia-container-toolkit-base"});
}

TEST_CASE("toolkit stage revert on apt unholds only its holds and purges only what it added",
          "[toolkit]") {
  ToolkitFixture f(k_debian, k_apt_programs);
  f.dir.write("/var/lib/dpkg/status", toolkit_dpkg("1.18.0-1", "hold ok installed") +
                                          dpkg_stanza("libnvidia-container-test-dep", "1.0-1"));
  const nlohmann::json undo = {
      {"family", "apt"},
      {"before:nvidia-container-toolkit", {{"version", nullptr}, {"held", false}}},
      {"before:nvidia-container-toolkit-base", {{"version", "1.17.8-1"}, {"held", true}}},
      {"before:libnvidia-container-tools", {{"version", nullptr}, {"held", false}}},
      {"before:libnvidia-container1", {{"version", "1.17.8-1"}, {"held", false}}},
      {"added:nvidia-container-toolkit", "1.18.0-1"},
      {"added:libnvidia-container-tools", "1.18.0-1"},
      {"added:libnvidia-container-test-dep", "1.0-1"},
      {"added:removed-since", "2.0-1"}};
  const auto commands = f.stage().commands_after_revert(f.ctx, undo);
  REQUIRE(commands.size() == 2);
  // The user's hold on -base stays; libnvidia-container1 was there before: released, kept.
  CHECK(commands[0].command.argv() == Argv{"apt-mark", "unhold", "libnvidia-container-tools",
                                           "nvidia-container-toolkit", "libnvidia-container1"});
  CHECK(commands[1].command.argv() == Argv{"dpkg", "--purge", "libnvidia-container-test-dep",
                                           "libnvidia-container-tools", "nvidia-container-toolkit"});
  CHECK(f.runner.commands().empty());
}

TEST_CASE("toolkit stage revert without a recorded package family runs nothing", "[toolkit]") {
  ToolkitFixture f(k_debian);
  CHECK(f.stage().commands_after_revert(f.ctx, nlohmann::json::object()).empty());
  CHECK(f.stage().commands_after_revert(f.ctx, {{"family", "pacman"}}).empty());
  CHECK(f.runner.commands().empty());
}

TEST_CASE("toolkit stage on Rocky without the versionlock plugin installs it with the toolkit",
          "[toolkit]") {
  ToolkitFixture f(k_rocky, {"dnf", "rpm"});
  f.settings.toolkit.version = "1.17.8-1";
  f.runner.respond("rpm", output(rpm_output("")));
  const auto plan = f.stage().plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == k_yum_repo);
  CHECK(plan.edits[0].after == f.rendered(packages::Family::dnf));
  // No refresh: dnf reads the repository's metadata as it installs.
  CHECK(argvs_of(plan) ==
        Argv{line(concat(concat({"dnf", "-y", "--setopt=install_weak_deps=False", "install"},
                                pinned("-", "1.17.8-1")),
                         {"python3-dnf-plugin-versionlock"})),
             line(concat({"dnf", "-y", "versionlock", "add"}, k_toolkit))});
  CHECK(plan.files_changed_by_commands == Argv{k_versionlock_list});
  CHECK(plan.undo.at("family") == "dnf");
}

TEST_CASE("toolkit stage on Rocky with the versionlock plugin installs only the toolkit", "[toolkit]") {
  ToolkitFixture f(k_rocky, {"dnf", "rpm"});
  f.dir.write("/etc/dnf/plugins/versionlock.conf", "[main]\nenabled = 1\n");
  f.runner.respond("rpm", output(rpm_output("")));
  const auto plan = f.stage().plan(f.ctx);
  REQUIRE(plan.commands.size() == 2);
  CHECK(plan.commands[0].command.argv() ==
        concat({"dnf", "-y", "--setopt=install_weak_deps=False", "install"}, k_toolkit));
  CHECK(plan.commands[0].reason == "the toolkit, at the repository's newest version");
}

TEST_CASE("toolkit stage on Rocky with the toolkit unlocked installs the plugin and locks",
          "[toolkit]") {
  ToolkitFixture f(k_rocky, {"dnf", "rpm"});
  f.runner.respond("rpm", output(rpm_output("1.17.8-1")));
  const auto plan = f.stage().plan(f.ctx);
  CHECK(plan.edits.empty());
  CHECK(argvs_of(plan) ==
        Argv{line({"dnf", "-y", "--setopt=install_weak_deps=False", "install", "python3-dnf-plugin-versionlock"}),
             line(concat({"dnf", "-y", "versionlock", "add"}, k_toolkit))});
  CHECK(plan.commands[0].reason == "the holds need dnf's versionlock plugin");
  CHECK(plan.files_changed_by_commands == Argv{k_versionlock_list});
}

namespace {

// dnf and rpm as far as the toolkit stage uses them, acting on `dir`: rpm -qa lists what is
// installed, dnf install adds what `on_install` says, dnf versionlock add appends the lines
// the real plugin appends to the versionlock list, rpm -e takes packages out.
class FakeDnf : public host::Runner {
public:
  FakeDnf(const test::TempRoot& dir, std::map<std::string, std::string> installed,
          std::map<std::string, std::string> on_install)
      : m_dir(dir), m_installed(std::move(installed)), m_on_install(std::move(on_install)) {}

  host::CommandResult run(const host::Command& command) override {
    m_argvs.push_back(command.argv());
    const auto& args = command.args;
    if (command.program == "rpm" && args.at(0) == "-qa") {
      std::string out;
      for (const auto& [name, version] : m_installed) out += name + "\t" + version + "\n";
      return output(out);
    }
    if (command.program == "rpm" && args.at(0) == "-e") {
      for (size_t i = 1; i < args.size(); ++i) m_installed.erase(args[i]);
      return {};
    }
    if (command.program == "dnf" && std::count(args.begin(), args.end(), "install")) {
      m_installed.insert(m_on_install.begin(), m_on_install.end());
      return {};
    }
    if (command.program == "dnf" && args.size() > 3 && args[1] == "versionlock" && args[2] == "add") {
      const auto path = m_dir / "/etc/dnf/plugins/versionlock.list";
      std::string text = fs::exists(path) ? test::read_file(path) : "";
      text += "\n# Added lock on Mon Nov 23 17:00:00 2026\n";
      for (size_t i = 3; i < args.size(); ++i) text += args[i] + "-0:" + m_installed.at(args[i]) + ".*\n";
      m_dir.write("/etc/dnf/plugins/versionlock.list", text);
      return {};
    }
    return {1, std::nullopt, false, "", "FakeDnf: unexpected command\n"};
  }

  const std::map<std::string, std::string>& installed() const { return m_installed; }
  const std::vector<Argv>& argvs() const { return m_argvs; }

private:
  const test::TempRoot& m_dir;
  std::map<std::string, std::string> m_installed;
  std::map<std::string, std::string> m_on_install;
  std::vector<Argv> m_argvs;
};

}  // namespace

TEST_CASE("toolkit stage apply on Rocky journals the versionlock list and revert restores its bytes",
          "[toolkit]") {
  ToolkitFixture f(k_rocky, {"dnf", "rpm"});
  f.settings.toolkit.version = "1.17.8-1";
  const std::string user_list =
      "# Site policy: the kernel moves only with the GPU driver. Ask ops before removing this.\n"
      "kernel-core-0:5.14.0-427.13.1.el9_4.*\n";
  f.dir.write(k_versionlock_list, user_list);
  const std::map<std::string, std::string> before = {{"bash", "5.1.8-9.el9"},
                                                     {"kernel-core", "5.14.0-427.13.1.el9_4"}};
  std::map<std::string, std::string> on_install = {{"libnvidia-container-test-dep", "1.0-1"},
                                                   {"python3-dnf-plugin-versionlock", "4.3.0-13.el9"}};
  for (const auto& name : k_toolkit) on_install[name] = "1.17.8-1";
  FakeDnf runner(f.dir, before, on_install);
  const StageContext ctx{f.root, runner};

  Journal journal;
  const auto outcome = apply_plan(ctx, journal, f.stage().plan(ctx));
  CHECK(outcome.files_written == 1);  // the .repo
  CHECK(outcome.commands_run == 2);   // install, versionlock add
  const auto applied_list = test::read_file(f.dir / k_versionlock_list);
  CHECK_THAT(applied_list, Catch::StartsWith(user_list));
  CHECK_THAT(applied_list, Catch::Contains("\nnvidia-container-toolkit-0:1.17.8-1.*\n"));

  // The journal on disk holds the list the command changed, with its original bytes.
  const auto saved = Journal::load(f.root);
  const StageRecord* record = saved.find("toolkit");
  REQUIRE(record);
  REQUIRE(record->files.size() == 2);
  CHECK(record->files[0].path == k_yum_repo);
  CHECK_FALSE(record->files[0].sha256_before);
  CHECK(record->files[1].path == k_versionlock_list);
  CHECK(record->files[1].sha256_before == util::sha256_hex(user_list));
  CHECK(record->files[1].sha256_after == util::sha256_hex(applied_list));
  REQUIRE(record->files[1].backup);
  CHECK(test::read_file(f.dir / *record->files[1].backup) == user_list);
  // What the install pulled in besides the toolkit, recorded after it ran.
  CHECK(record->undo.value("added:python3-dnf-plugin-versionlock", "") == "4.3.0-13.el9");
  CHECK(record->undo.value("added:libnvidia-container-test-dep", "") == "1.0-1");
  CHECK_FALSE(record->undo.contains("added:bash"));

  CHECK(f.stage().inspect(ctx, journal.find("toolkit")).state == StageState::applied);
  CHECK(f.stage().plan(ctx).empty());  // nothing left to do

  const auto revert = plan_revert(ctx, journal, f.stage(), Force::no);
  REQUIRE(revert.edits.size() == 2);
  CHECK(revert.edits[0].path == k_versionlock_list);
  CHECK(revert.edits[0].after == user_list);
  CHECK(revert.edits[1].path == k_yum_repo);
  CHECK_FALSE(revert.edits[1].after);
  // No `dnf versionlock delete`: it would rewrite the list without the user's comment.
  CHECK(argvs_of(revert) ==
        Argv{line({"rpm", "-e", "libnvidia-container-test-dep", "libnvidia-container-tools",
                   "libnvidia-container1", "nvidia-container-toolkit", "nvidia-container-toolkit-base",
                   "python3-dnf-plugin-versionlock"})});
  apply_revert(ctx, journal, revert);

  CHECK(test::read_file(f.dir / k_versionlock_list) == user_list);
  CHECK_FALSE(fs::exists(f.dir / k_yum_repo));
  CHECK_FALSE(journal.find("toolkit"));
  CHECK_FALSE(Journal::load(f.root).find("toolkit"));
  CHECK(runner.installed() == before);
  for (const auto& argv : runner.argvs()) CHECK(format_command_line(argv).find("delete") == std::string::npos);
}

// Fedora 41 and later run dnf5, whose `dnf versionlock add` keeps its locks in
// /etc/dnf/versionlock.toml, not in the dnf 4 plugin's /etc/dnf/plugins/versionlock.list: the
// stage must read (and journal) that file, or inspect stays pending and revert leaves its
// locks behind.
TEST_CASE("toolkit stage on Fedora with dnf5 sees the locks in versionlock.toml",
          "[toolkit]") {
  ToolkitFixture f("NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=41\n", {"dnf5", "rpm"});
  f.dir.symlink("dnf5", "/usr/bin/dnf");
  std::string locks = "version = \"1.0\"\n";
  for (const auto& name : k_toolkit)
    locks += "\n[[packages]]\nname = \"" + name +
             "\"\n[packages.metadata]\ncomment = \"\"\ncreated = 1763917200\n"
             "[[packages.conditions]]\nkey = \"evr\"\ncomparator = \"=\"\nvalue = \"1.17.8-1\"\n";
  f.dir.write("/etc/dnf/versionlock.toml", locks);
  f.runner.respond("rpm", output(rpm_output("1.17.8-1")));
  f.runner.respond("rpm", output(rpm_output("1.17.8-1")));
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::applied);
  CHECK(f.stage().plan(f.ctx).empty());
  CHECK(packages::package_system_for(f.root, std::nullopt).hold_file() == "/etc/dnf/versionlock.toml");
  CHECK(packages::package_system_for(f.root, std::nullopt).hold_support_packages(f.root).empty());
}
