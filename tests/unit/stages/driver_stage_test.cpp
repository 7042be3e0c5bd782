#include "stages/driver_stage.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "error.hpp"
#include "packages/package_state.hpp"
#include "stages/engine.hpp"
#include "stages/journal.hpp"
#include "support/package_commands.hpp"
#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"

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

const std::string k_pascal = "gt1030-x2-hdmi-audio.lspci-xxx.txt";
const std::string k_blackwell = "rtx5080-blackwell-arrowlake-igpu.lspci-xxxx.txt";
const std::string k_hgx = "pci/hgx-h100-2gpu-2nvswitch-derived-from-h100-sxm5-config96.lspci-x.txt";
const std::string k_vgpu = "pci/vgpu-guest-derived-from-quadro-p1000-hp-vfio-host.lspci-xxx.txt";

const std::string k_release = "6.1.0-18-amd64";
const std::string k_headers = "linux-headers-" + k_release;
const std::string k_key = test::k_armoured_test_key;
const std::string k_secure_boot_var = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e098032b8c4c";
const std::string k_apt_list = "/etc/apt/sources.list.d/cuda-debian12.list";
const std::string k_run = "/root/NVIDIA-Linux-x86_64-580.95.05.run";
const std::string k_not_system_root = "the driver loads at the host's next boot, or now with `modprobe nvidia` on it";

const Argv k_apt_refresh = test::apt_refresh(k_apt_list);

host::CommandResult failure(const std::string& err) { return {100, std::nullopt, false, "", err}; }

// The head of NVIDIA's .run installer of `version`: a Makeself archive with NVIDIA's label.
std::string installer_head(const std::string& version) {
  return "#!/bin/sh\n# This script was generated using Makeself 2.1.5\n"
         "# The license covering this archive and its contents, if any, is wholly independent\n"
         "CRCsum=\"3447164052\"\nMD5=\"00000000000000000000000000000000\"\nTMPROOT=${TMPDIR:=/tmp}\n\n"
         "label=\"NVIDIA Accelerated Graphics Driver for Linux-x86_64 " + version + "\"\n"
         "script=\"./nvidia-installer\"\n";
}

// A host root with `os_release`, PCI from the dump at `dump` (a real path), the running
// kernel's release under /proc, and the package tools `programs` in /usr/bin.
struct DriverFixture {
  DriverFixture(const std::string& os_release, const fs::path& dump, const Argv& programs = {}) {
    dir.write("/etc/os-release", os_release);
    dir.write("/proc/sys/kernel/osrelease", k_release + "\n");
    for (const auto& program : programs) install("/usr/bin/" + program);
    dir.write("/etc/gns/cuda.pub", k_key);
    settings.pci_dump = dump;
    settings.driver.key_url = "file:///etc/gns/cuda.pub";
  }
  void install(const std::string& host_path) const {
    dir.write(host_path, "#!/bin/sh\n");
    fs::permissions(dir / host_path, fs::perms(0755));
  }
  void headers() const { dir.write("/lib/modules/" + k_release + "/build/Makefile", "# kernel Makefile\n"); }
  void secure_boot(char byte) const {
    dir.mkdir("/sys/firmware/efi");
    dir.write(k_secure_boot_var, std::string("\x06\x00\x00\x00", 4) + byte);
  }
  void load_nvidia(const std::string& version) const {
    dir.mkdir("/sys/module/nvidia");
    dir.write("/sys/module/nvidia/version", version + "\n");
  }
  DriverStage stage() const { return DriverStage(settings); }

  test::TempRoot dir;
  host::HostRoot root{dir.path()};
  test::RecordingRunner runner;
  StageContext ctx{root, runner};
  Settings settings;
};

const Argv k_apt_programs = {"apt-get", "apt-mark", "dpkg"};

// A Debian 12 root with apt, whose kernel headers are installed: PCI from `dump`.
struct DebianFixture : DriverFixture {
  explicit DebianFixture(const fs::path& dump) : DriverFixture(k_debian, dump, k_apt_programs) {
    headers();
    dir.write("/var/lib/dpkg/status", dpkg_stanza("bash", "5.2.15-2+b7"));
  }
};

Argv argvs_of(const std::vector<PlannedCommand>& commands) {
  Argv lines;
  for (const auto& planned : commands) lines.push_back(format_command_line(planned.command.argv()));
  return lines;
}
Argv argvs_of(const StagePlan& plan) { return argvs_of(plan.commands); }
std::string line(const Argv& argv) { return format_command_line(argv); }

PreflightRefused refusal_of(const DriverFixture& f) {
  try {
    f.stage().plan(f.ctx);
  } catch (const PreflightRefused& refused) {
    return refused;
  }
  FAIL("plan accepted the root");
  throw std::logic_error("unreachable");
}

// True when `plan` runs `argv` exactly once.
bool runs(const StagePlan& plan, const Argv& argv) {
  const auto lines = argvs_of(plan);
  return std::count(lines.begin(), lines.end(), line(argv)) == 1;
}

bool has_note(const StagePlan& plan, const std::string& note) {
  return std::find(plan.notes.begin(), plan.notes.end(), note) != plan.notes.end();
}

}  // namespace

// --- zypper (SLES 15) ---

TEST_CASE("driver stage on SLES installs the signed open KMP under Secure Boot with these exact commands",
          "[driver]") {
  DriverFixture f(k_sles, test::shared_fixture("pci/" + k_blackwell), {"zypper", "rpm"});
  f.secure_boot(1);  // SUSE signs the open KMP: no refusal, and no headers are needed
  f.runner.respond("rpm", output("bash\t4.4-150400.4.11\n"));
  const auto plan = f.stage().plan(f.ctx);
  CHECK(f.runner.argvs() == std::vector<Argv>{k_rpm_query});

  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == "/etc/zypp/repos.d/cuda-sles15.repo");
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("gpgkey=file:///etc/gns/cuda.pub"));
  CHECK_THAT(*plan.edits[0].after,
             Catch::Contains("baseurl=https://developer.download.nvidia.com/compute/cuda/repos/sles15/x86_64/"));
  const Argv drivers = {"nvidia-open-driver-G06-signed-cuda-kmp-default", "nvidia-compute-utils-G06"};
  // The names carry no branch: zypper gets the newest below the next branch (581).
  const Argv of_branch = {"nvidia-open-driver-G06-signed-cuda-kmp-default<581", "nvidia-compute-utils-G06<581"};
  CHECK(argvs_of(plan) ==
        Argv{line({"zypper", "--non-interactive", "--gpg-auto-import-keys", "refresh", "cuda-sles15"}),
             line(concat({"zypper", "--non-interactive", "--gpg-auto-import-keys", "install", "--no-recommends",
                          "--oldpackage"},
                         of_branch)),
             line(concat({"zypper", "--non-interactive", "addlock"}, drivers))});
  CHECK(plan.files_changed_by_commands == Argv{"/etc/zypp/locks"});
  CHECK(plan.undo.at("family") == "zypper");
  CHECK(has_note(plan, k_not_system_root));

  // apply runs exactly those, then asks rpm what the install added.
  Journal journal;
  const auto outcome = apply_plan(f.ctx, journal, plan);
  CHECK(outcome.commands_run == 3);
  CHECK(f.runner.argvs() ==
        std::vector<Argv>{k_rpm_query, plan.commands[0].command.argv(), plan.commands[1].command.argv(),
                          plan.commands[2].command.argv(), k_rpm_query});
}

TEST_CASE("driver stage on SLES refuses the unsigned proprietary KMP under Secure Boot", "[driver]") {
  DriverFixture f(k_sles, test::shared_fixture("pci/" + k_pascal), {"zypper", "rpm"});
  f.secure_boot(1);
  const auto refused = refusal_of(f);
  CHECK(refused.reason() == PreflightRefused::Reason::secure_boot_unsigned);
  CHECK_THAT(refused.what(), Catch::StartsWith("Secure Boot is on, and nvidia-driver-G06-kmp-default builds"));
  CHECK(f.runner.argvs() == std::vector<Argv>{k_rpm_query});  // nothing but the query ran
}

// --- apt (Debian 12) preflights ---

TEST_CASE("driver stage refuses a vGPU guest without a loaded driver and changes nothing", "[driver]") {
  DebianFixture f(test::test_fixture(k_vgpu));
  const auto refused = refusal_of(f);
  CHECK(refused.reason() == PreflightRefused::Reason::vgpu_guest);
  CHECK_THAT(refused.what(), Catch::Contains("is a vGPU guest device"));
  CHECK_THAT(refused.what(), Catch::Contains("--driver-run FILE"));
  CHECK(f.runner.commands().empty());
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::pending);
}

TEST_CASE("driver stage leaves a vGPU guest whose nvidia module is loaded alone", "[driver]") {
  DebianFixture f(test::test_fixture(k_vgpu));
  f.load_nvidia("550.127.05");
  const auto plan = f.stage().plan(f.ctx);
  CHECK(plan.empty());
  CHECK_FALSE(plan.reboot_reason);
  CHECK(plan.notes == Argv{"vGPU guest with NVIDIA driver 550.127.05 loaded (the GRID guest driver): left alone"});
  CHECK(f.runner.commands().empty());
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::applied);
}

TEST_CASE("driver stage runs the GRID installer given with --driver-run on a vGPU guest", "[driver]") {
  DebianFixture f(test::test_fixture(k_vgpu));
  f.dir.write(k_run, installer_head("580.95.05"));
  f.settings.driver.run_file = k_run;
  const auto plan = f.stage().plan(f.ctx);
  // The guest's GPU is a Pascal Quadro P1000: the proprietary modules.
  CHECK(argvs_of(plan) == Argv{line({"sh", k_run, "--silent", "--dkms", "-m=kernel"})});
}

TEST_CASE("driver stage refuses DKMS modules under Secure Boot unless unsigned modules are allowed",
          "[driver]") {
  DebianFixture f(test::test_fixture(k_hgx));
  f.secure_boot(1);
  const auto refused = refusal_of(f);
  CHECK(refused.reason() == PreflightRefused::Reason::secure_boot_unsigned);
  CHECK_THAT(refused.what(), Catch::StartsWith("Secure Boot is on, and nvidia-open-580 builds"));
  CHECK_THAT(refused.what(), Catch::Contains("nothing was changed"));
  CHECK(f.runner.commands().empty());

  f.settings.driver.allow_unsigned_modules = true;
  const auto plan = f.stage().plan(f.ctx);
  CHECK_FALSE(plan.empty());
  CHECK(runs(plan, apt_install({"nvidia-open-580", "nvidia-fabricmanager-580"})));
}

TEST_CASE("driver stage installs under Secure Boot that is off or unreadable", "[driver]") {
  DebianFixture f(test::test_fixture(k_hgx));
  f.secure_boot(0);
  CHECK_FALSE(f.stage().plan(f.ctx).empty());
  fs::remove(f.dir / k_secure_boot_var);  // EFI, but the variable cannot be read
  CHECK_FALSE(f.stage().plan(f.ctx).empty());
}

TEST_CASE("driver stage without the kernel headers asks apt for them and refuses when none has them",
          "[driver]") {
  DebianFixture f(test::test_fixture(k_hgx));
  fs::remove(f.dir / ("/lib/modules/" + k_release + "/build/Makefile"));
  f.runner.respond("apt-cache", failure("E: No packages found\n"));
  const auto refused = refusal_of(f);
  CHECK(refused.reason() == PreflightRefused::Reason::missing_kernel_headers);
  CHECK_THAT(refused.what(), Catch::StartsWith(k_headers + " (the headers of the running kernel " + k_release));
  CHECK(f.runner.argvs() == std::vector<Argv>{{"apt-cache", "show", "--no-all-versions", k_headers}});

  // apt-cache's exit 0 without a stanza is no package either.
  f.runner.respond("apt-cache", output(""));
  CHECK(refusal_of(f).reason() == PreflightRefused::Reason::missing_kernel_headers);
}

TEST_CASE("driver stage installs the kernel headers that apt has before the driver and holds only the driver",
          "[driver]") {
  DebianFixture f(test::test_fixture(k_hgx));
  fs::remove(f.dir / ("/lib/modules/" + k_release + "/build/Makefile"));
  f.runner.respond("apt-cache", output("Package: " + k_headers + "\nVersion: 6.1.76-1\n\n"));
  const auto plan = f.stage().plan(f.ctx);
  CHECK(f.runner.argvs() == std::vector<Argv>{{"apt-cache", "show", "--no-all-versions", k_headers}});
  CHECK(argvs_of(plan) ==
        Argv{line(k_apt_refresh), line(apt_install({k_headers})), line(apt_install({"nvidia-open-580", "nvidia-fabricmanager-580"})),
             line({"apt-mark", "hold", "nvidia-open-580", "nvidia-fabricmanager-580"}),
             line({"systemctl", "enable", "nvidia-fabricmanager"})});
  CHECK(plan.undo.at("before:" + k_headers) == nlohmann::json{{"version", nullptr}, {"held", false}});
}

TEST_CASE("driver stage with the driver installed and loaded but not held only holds it and asks no reboot",
          "[driver]") {
  DebianFixture f(test::test_fixture(k_hgx));
  f.dir.write("/var/lib/dpkg/status", dpkg_stanza("bash", "5.2.15-2+b7") +
                                          dpkg_stanza("nvidia-open-580", "580.95.05-1") +
                                          dpkg_stanza("nvidia-fabricmanager-580", "580.95.05-1", "hold ok installed"));
  f.load_nvidia("580.95.05");
  const auto plan = f.stage().plan(f.ctx);
  CHECK(f.runner.commands().empty());
  CHECK(argvs_of(plan) == Argv{line({"apt-mark", "hold", "nvidia-open-580"})});
  CHECK(plan.edits.empty());
  CHECK_FALSE(plan.reboot_reason);
  CHECK(plan.undo.at("before:nvidia-open-580") == nlohmann::json{{"version", "580.95.05-1"}, {"held", false}});
}

TEST_CASE("driver stage with the driver packages installed and held plans nothing and runs nothing",
          "[driver]") {
  DriverFixture f(k_debian, test::test_fixture(k_hgx));  // no apt tools even: nothing needs them
  f.dir.write("/var/lib/dpkg/status", dpkg_stanza("bash", "5.2.15-2+b7") +
                                          dpkg_stanza("nvidia-open-580", "580.95.05-1", "hold ok installed") +
                                          dpkg_stanza("nvidia-fabricmanager-580", "580.95.05-1", "hold ok installed"));
  f.secure_boot(1);  // and no refusal: there is nothing to install
  for (const auto& pin : {std::optional<std::string>(), std::optional<std::string>("580.95.05-1")}) {
    INFO(pin.value_or("no pin"));
    f.settings.driver.version = pin;
    const auto plan = f.stage().plan(f.ctx);
    CHECK(plan.empty());
    CHECK_FALSE(plan.reboot_reason);
    CHECK(plan.notes == Argv{"nvidia-open-580 580.95.05-1 is installed and held, with 1 more driver package(s)"});
    const auto inspection = f.stage().inspect(f.ctx, nullptr);
    CHECK(inspection.state == StageState::applied);
    CHECK(inspection.detail == plan.notes[0]);
  }
  CHECK(f.runner.commands().empty());

  // Fabric Manager no longer held: the driver is not in place.
  f.dir.write("/var/lib/dpkg/status", dpkg_stanza("nvidia-open-580", "580.95.05-1", "hold ok installed") +
                                          dpkg_stanza("nvidia-fabricmanager-580", "580.95.05-1"));
  f.settings.driver.version.reset();
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::pending);
}

TEST_CASE("driver stage leaves another installed driver alone unless a branch is asked for", "[driver]") {
  DebianFixture f(test::test_fixture(k_hgx));
  f.dir.write("/var/lib/dpkg/status", dpkg_stanza("bash", "5.2.15-2+b7") +
                                          dpkg_stanza("nvidia-driver-535", "535.216.01-1"));
  const auto plan = f.stage().plan(f.ctx);
  CHECK(plan.empty());
  CHECK(plan.notes == Argv{"nvidia-driver-535 535.216.01-1 is installed: left alone. To replace it, "
                           "ask for a branch with --driver-branch"});
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::applied);

  f.settings.driver.branch = "580";
  const auto asked = f.stage().plan(f.ctx);
  CHECK(runs(asked, apt_install({"nvidia-open-580", "nvidia-fabricmanager-580"})));
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::pending);
  CHECK(f.runner.commands().empty());
}

TEST_CASE("driver stage leaves a driver from NVIDIA's installer alone even when a branch is asked for",
          "[driver]") {
  DebianFixture f(test::test_fixture(k_hgx));
  f.install("/usr/bin/nvidia-uninstall");
  for (const auto& branch : {std::optional<std::string>(), std::optional<std::string>("580")}) {
    INFO(branch.value_or("no branch"));
    f.settings.driver.branch = branch;
    const auto plan = f.stage().plan(f.ctx);
    CHECK(plan.empty());
    CHECK(plan.notes == Argv{"a driver installed by NVIDIA's .run installer (/usr/bin/nvidia-uninstall) is "
                             "installed: left alone. To replace it, run nvidia-uninstall first"});
  }
  CHECK(f.runner.commands().empty());
}

TEST_CASE("driver stage asks for a reboot when an NVIDIA driver or nouveau is loaded", "[driver]") {
  DebianFixture f(test::test_fixture(k_hgx));
  const auto fresh = f.stage().plan(f.ctx);
  CHECK_FALSE(fresh.reboot_reason);
  CHECK(fresh.notes.back() == k_not_system_root);  // the test root is not "/": no modprobe
  for (const auto& command : argvs_of(fresh)) CHECK(command.find("modprobe") == std::string::npos);

  f.dir.mkdir("/sys/module/nouveau");
  CHECK(f.stage().plan(f.ctx).reboot_reason ==
        "nouveau is loaded; NVIDIA's driver can bind the GPUs only after a reboot");
  f.load_nvidia("570.124.06");
  const auto plan = f.stage().plan(f.ctx);
  CHECK(plan.reboot_reason == "NVIDIA driver 570.124.06 is loaded; the one installed now replaces it at the next boot");
  CHECK_FALSE(has_note(plan, k_not_system_root));
}

TEST_CASE("driver stage on NVSwitch systems pins Fabric Manager with the driver and enables its service",
          "[driver]") {
  DebianFixture f(test::test_fixture(k_hgx));
  f.settings.driver.version = "580.95.05-1";
  const auto plan = f.stage().plan(f.ctx);
  REQUIRE(plan.edits.size() == 3);
  // The pin holds Fabric Manager (an nvidia- package) at the driver's version too.
  CHECK(plan.edits[0].path == "/etc/apt/preferences.d/gpu-node-setup-nvidia-driver");
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("\nPackage: /^(nvidia-|"));
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("\nPin: version 580.95.05-1\nPin-Priority: 1000\n"));
  CHECK(plan.edits[1].path == "/usr/share/keyrings/cuda-debian12-keyring.asc");
  CHECK(plan.edits[1].after == k_key);
  CHECK(plan.edits[2].path == k_apt_list);
  CHECK_THAT(*plan.edits[2].after,
             Catch::Contains("deb [signed-by=/usr/share/keyrings/cuda-debian12-keyring.asc] "
                             "https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/ /"));
  CHECK(argvs_of(plan) ==
        Argv{line(k_apt_refresh),
             line(apt_install({"nvidia-open-580=580.95.05-1", "nvidia-fabricmanager-580=580.95.05-1"})),
             line({"apt-mark", "hold", "nvidia-open-580", "nvidia-fabricmanager-580"}),
             line({"systemctl", "enable", "nvidia-fabricmanager"})});
  CHECK(has_note(plan, "2 NVSwitch(es): nvidia-fabricmanager-580 at 580.95.05-1, its service enabled"));
  CHECK(plan.undo.at("enabled_service") == "nvidia-fabricmanager");
  CHECK(plan.undo.at("before:nvidia-fabricmanager-580") == nlohmann::json{{"version", nullptr}, {"held", false}});

  // After the install: revert disables the service first, then releases and removes.
  f.dir.write("/var/lib/dpkg/status",
              dpkg_stanza("bash", "5.2.15-2+b7") + dpkg_stanza("nvidia-open-580", "580.95.05-1", "hold ok installed") +
                  dpkg_stanza("nvidia-fabricmanager-580", "580.95.05-1", "hold ok installed") +
                  dpkg_stanza("nvidia-kernel-open-dkms", "580.95.05-1"));
  auto undo = plan.undo;
  undo.update(plan.undo_after_commands(f.ctx));
  CHECK(undo.at("added:nvidia-kernel-open-dkms") == "580.95.05-1");
  f.install("/usr/bin/systemctl");
  CHECK(argvs_of(f.stage().commands_after_revert(f.ctx, undo)) ==
        Argv{line({"systemctl", "disable", "nvidia-fabricmanager"}),
             line({"apt-mark", "unhold", "nvidia-fabricmanager-580", "nvidia-open-580"}),
             line({"dpkg", "--purge", "nvidia-fabricmanager-580", "nvidia-kernel-open-dkms", "nvidia-open-580"})});
  // A root without systemctl: nothing to disable the service with.
  fs::remove(f.dir / "/usr/bin/systemctl");
  CHECK(argvs_of(f.stage().commands_after_revert(f.ctx, undo)).front() ==
        line({"apt-mark", "unhold", "nvidia-fabricmanager-580", "nvidia-open-580"}));
  CHECK(f.runner.commands().empty());
}

TEST_CASE("driver stage without NVSwitches installs no Fabric Manager", "[driver]") {
  DebianFixture f(test::shared_fixture("pci/" + k_blackwell));
  const auto plan = f.stage().plan(f.ctx);
  CHECK(argvs_of(plan) == Argv{line(k_apt_refresh), line(apt_install({"nvidia-open-580"})),
                               line({"apt-mark", "hold", "nvidia-open-580"})});
  CHECK_FALSE(plan.undo.contains("enabled_service"));
}

TEST_CASE("driver stage refuses a distribution it has no package system for", "[driver]") {
  DriverFixture f("NAME=\"Arch Linux\"\nID=arch\nPRETTY_NAME=\"Arch Linux\"\n", test::test_fixture(k_hgx));
  CHECK(refusal_of(f).reason() == PreflightRefused::Reason::unsupported_distro);
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::not_applicable);
  CHECK(f.runner.commands().empty());
}

TEST_CASE("driver stage on a host without an NVIDIA GPU plans nothing", "[driver]") {
  DebianFixture f(test::shared_fixture("pci/NEG-intel-skylake-igpu.lspci-xxxx.txt"));
  const auto plan = f.stage().plan(f.ctx);
  CHECK(plan.empty());
  CHECK(plan.notes == Argv{"no NVIDIA GPU: no driver is installed"});
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::not_applicable);
}

// --- dnf (Rocky 9) ---

namespace {

// A Rocky 9 root with dnf and rpm and the versionlock plugin, rpm answering `rpm_qa` once and
// dnf saying the running kernel's headers are in a repository.
struct RockyFixture : DriverFixture {
  explicit RockyFixture(const fs::path& dump) : DriverFixture(k_rocky, dump, {"dnf", "rpm"}) {
    dir.write("/etc/dnf/plugins/versionlock.conf", "[main]\nenabled = 1\n");
    runner.respond("rpm", output("bash\t5.1.8-9.el9\n"));
    runner.respond("dnf", output("Available Packages\nkernel-devel." + k_release + "  updates\n"));
  }
};

// The index of the first command in `plan` with an argument that starts with `prefix`.
size_t first_naming(const StagePlan& plan, const std::string& prefix) {
  for (size_t i = 0; i < plan.commands.size(); ++i)
    for (const auto& arg : plan.commands[i].command.args)
      if (arg.starts_with(prefix)) return i;
  return plan.commands.size();
}

}  // namespace

TEST_CASE("driver stage on Rocky installs the headers then the module stream then Fabric Manager and locks them",
          "[driver]") {
  RockyFixture f(test::test_fixture(k_hgx));
  const auto plan = f.stage().plan(f.ctx);
  CHECK(f.runner.argvs() ==
        std::vector<Argv>{k_rpm_query, {"dnf", "-y", "-q", "list", "--available", "kernel-devel-" + k_release}});
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == "/etc/yum.repos.d/cuda-rhel9.repo");
  CHECK(first_naming(plan, "kernel-devel-" + k_release) == 0);
  CHECK(first_naming(plan, "nvidia-driver:580-open") == 1);
  CHECK(plan.commands[1].command.argv() == Argv{"dnf", "-y", "module", "install", "nvidia-driver:580-open"});
  CHECK(argvs_of(plan).at(plan.commands.size() - 2) ==
        line({"dnf", "-y", "versionlock", "add", "nvidia-driver", "kmod-nvidia-open-dkms", "nvidia-fabric-manager"}));
  CHECK(argvs_of(plan).back() == line({"systemctl", "enable", "nvidia-fabricmanager"}));
  const auto fabric = first_naming(plan, "nvidia-fabric-manager");
  REQUIRE(fabric < plan.commands.size());
  CHECK(plan.commands[fabric].command.args.at(2) == "install");
  // Fabric Manager of the stream's branch, not the repository's newest.
  CHECK(plan.commands[fabric].command.args.back() == "nvidia-fabric-manager-580.*");
  CHECK(plan.files_changed_by_commands ==
        Argv{"/etc/dnf/plugins/versionlock.list", "/etc/dnf/modules.d/nvidia-driver.module"});
}

TEST_CASE("driver stage on Rocky with a pinned version enables the stream and installs every package at it",
          "[driver]") {
  RockyFixture f(test::test_fixture(k_hgx));
  f.headers();
  f.settings.driver.version = "580.95.05-1";
  const auto plan = f.stage().plan(f.ctx);
  CHECK(argvs_of(plan) ==
        Argv{line({"dnf", "-y", "module", "enable", "nvidia-driver:580-open"}),
             line({"dnf", "-y", "--setopt=install_weak_deps=False", "install", "nvidia-driver-580.95.05-1",
                   "kmod-nvidia-open-dkms-580.95.05-1", "nvidia-fabric-manager-580.95.05-1"}),
             line({"dnf", "-y", "versionlock", "add", "nvidia-driver", "kmod-nvidia-open-dkms", "nvidia-fabric-manager"}),
             line({"systemctl", "enable", "nvidia-fabricmanager"})});
}

// kmod-nvidia-*-dkms builds the module for the running kernel when it is installed (its %post
// runs dkms build and install): the running kernel's headers must be there by then, or the
// module is not built until a later boot and `modprobe nvidia` on "/" fails.
TEST_CASE("driver stage on Rocky installs the running kernel's headers no later than the DKMS package",
          "[driver]") {
  RockyFixture f(test::test_fixture(k_hgx));
  const auto plan = f.stage().plan(f.ctx);
  const auto headers = first_naming(plan, "kernel-devel-" + k_release);
  REQUIRE(headers < plan.commands.size());
  CHECK(headers <= first_naming(plan, "nvidia-driver:580-open"));
}

// RHEL and Rocky do not install dnf's versionlock plugin: without it `dnf versionlock add`
// fails ("No such command: versionlock") after the driver is installed. The toolkit stage
// installs it (PackageSystem::hold_support_packages); the driver stage, which runs first,
// must too.
TEST_CASE("driver stage on Rocky without the versionlock plugin installs it before locking", "[driver]") {
  RockyFixture f(test::test_fixture(k_hgx));
  f.headers();
  fs::remove(f.dir / "/etc/dnf/plugins/versionlock.conf");
  const auto plan = f.stage().plan(f.ctx);
  const auto plugin = first_naming(plan, "python3-dnf-plugin-versionlock");
  REQUIRE(plugin < plan.commands.size());
  CHECK(plugin < first_naming(plan, "versionlock"));
}

// NVIDIA's SLES packages carry no branch in their names (G06 is every branch since 525): the
// branch asked for (or the default one) must reach zypper some other way, or it installs the
// repository's newest branch whatever --driver-branch said. zypper gets "NAME<571": the
// newest version below the next branch.
TEST_CASE("driver stage on SLES installs the branch asked for", "[driver]") {
  DriverFixture f(k_sles, test::shared_fixture("pci/" + k_blackwell), {"zypper", "rpm"});
  f.settings.driver.branch = "570";
  const auto plan = f.stage().plan(f.ctx);
  const auto install = first_naming(plan, "--no-recommends");
  REQUIRE(install < plan.commands.size());
  const auto& args = plan.commands[install].command.args;
  CHECK(std::count(args.begin(), args.end(), "nvidia-compute-utils-G06<571") == 1);
  CHECK(std::count(args.begin(), args.end(), "nvidia-open-driver-G06-signed-cuda-kmp-default<571") == 1);
}

// --- NVIDIA's .run installer ---

TEST_CASE("driver stage refuses a --driver-run file that is not NVIDIA's installer", "[driver]") {
  DebianFixture f(test::shared_fixture("pci/" + k_pascal));
  f.settings.driver.run_file = k_run;
  CHECK_THROWS_MATCHES(f.stage().plan(f.ctx), UsageError,
                       Catch::Matchers::Message("--driver-run " + k_run + ": no such file under --root"));
  f.dir.write(k_run, "#!/bin/sh\necho 'NVIDIA Accelerated Graphics Driver for Linux-x86_64 580.95.05'\n");
  CHECK_THROWS_MATCHES(f.stage().plan(f.ctx), UsageError,
                       Catch::Matchers::Message("--driver-run " + k_run +
                                                " is not NVIDIA's driver installer: it is not a Makeself "
                                                "archive labelled \"NVIDIA Accelerated Graphics Driver\""));
  f.dir.write(k_run, "#!/bin/sh\n# This script was generated using Makeself 2.4.0\nlabel=\"Some other product 1.0\"\n");
  CHECK_THROWS_AS(f.stage().plan(f.ctx), UsageError);
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::not_applicable);
  CHECK(f.runner.commands().empty());
}

TEST_CASE("driver stage runs NVIDIA's installer silently with DKMS and the proprietary modules for Pascal",
          "[driver]") {
  DebianFixture f(test::shared_fixture("pci/" + k_pascal));
  f.dir.write(k_run, installer_head("580.95.05") + std::string("\0\x1f\x8b binary payload", 18));
  f.settings.driver.run_file = k_run;
  const auto plan = f.stage().plan(f.ctx);
  REQUIRE(plan.commands.size() == 1);
  CHECK(plan.commands[0].command.argv() == Argv{"sh", k_run, "--silent", "--dkms", "-m=kernel"});
  CHECK(plan.undo.at("run_file") == k_run);
  CHECK(plan.undo.at("run_version") == "580.95.05");
  CHECK_FALSE(plan.undo.contains("family"));  // no package was installed
  CHECK(f.runner.commands().empty());
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::pending);

  // Hopper: the open modules.
  f.settings.pci_dump = test::test_fixture(k_hgx);
  CHECK(f.stage().plan(f.ctx).commands.at(0).command.argv() ==
        Argv{"sh", k_run, "--silent", "--dkms", "-m=kernel-open"});
}

TEST_CASE("driver stage installs the kernel headers before NVIDIA's installer when they are missing",
          "[driver]") {
  DebianFixture f(test::shared_fixture("pci/" + k_pascal));
  fs::remove(f.dir / ("/lib/modules/" + k_release + "/build/Makefile"));
  f.dir.write(k_run, installer_head("580.95.05"));
  f.settings.driver.run_file = k_run;
  f.runner.respond("apt-cache", output("Package: " + k_headers + "\n"));
  const auto plan = f.stage().plan(f.ctx);
  CHECK(argvs_of(plan) == Argv{line(apt_install({k_headers})), line({"sh", k_run, "--silent", "--dkms", "-m=kernel"})});
  CHECK(plan.undo.at("family") == "apt");
  CHECK(plan.undo.at("run_version") == "580.95.05");

  f.secure_boot(1);
  CHECK(refusal_of(f).reason() == PreflightRefused::Reason::secure_boot_unsigned);
}

TEST_CASE("driver stage with the installer's driver in place plans nothing and revert uninstalls it",
          "[driver]") {
  DebianFixture f(test::shared_fixture("pci/" + k_pascal));
  f.dir.write(k_run, installer_head("580.95.05"));
  f.settings.driver.run_file = k_run;
  f.install("/usr/bin/nvidia-uninstall");
  // The uninstaller alone is another version's driver: this one is not installed yet.
  f.dir.write("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.570.124.06", "");
  CHECK_FALSE(f.stage().plan(f.ctx).empty());
  f.dir.write("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05", "");
  const auto plan = f.stage().plan(f.ctx);
  CHECK(plan.empty());
  CHECK(plan.notes == Argv{"NVIDIA driver 580.95.05 (from " + k_run + ") is installed"});
  CHECK(f.stage().inspect(f.ctx, nullptr).state == StageState::applied);

  const nlohmann::json undo = {{"run_file", k_run}, {"run_version", "580.95.05"}};
  const auto revert = f.stage().commands_after_revert(f.ctx, undo);
  REQUIRE(revert.size() == 1);
  CHECK(revert[0].command.argv() == Argv{"/usr/bin/nvidia-uninstall", "--silent"});
  fs::remove(f.dir / "/usr/bin/nvidia-uninstall");  // uninstalled by hand since
  CHECK(f.stage().commands_after_revert(f.ctx, undo).empty());
  CHECK(f.runner.commands().empty());
}
