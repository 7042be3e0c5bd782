#include "driver_stage.hpp"

#include <algorithm>
#include <array>
#include <regex>

#include "../config/templates.hpp"
#include "../detect/detect.hpp"
#include "../error.hpp"
#include "../host/kernel_facts.hpp"
#include "driver_choice.hpp"
#include "package_set.hpp"

namespace gns::stages {
namespace {

using namespace std::chrono_literals;
using packages::Family;
using packages::InstalledSet;
using packages::PackageRequest;
using packages::PackageSystem;

// NVIDIA's installer builds the modules (DKMS) and may take as long as a package install.
constexpr auto k_run_timeout = std::chrono::milliseconds(30min);
constexpr std::string_view k_uninstaller = "/usr/bin/nvidia-uninstall";
// `dnf module enable/install` records the enabled stream here; journaled, so revert resets it.
constexpr std::string_view k_dnf_module_file = "/etc/dnf/modules.d/nvidia-driver.module";
// Where the driver's apt pin goes (DriverPath::pin_with_apt_preferences).
constexpr std::string_view k_apt_preferences = "/etc/apt/preferences.d/gpu-node-setup-nvidia-driver";
constexpr const char* k_hold_reason =
    "an unattended upgrade must not replace the driver under running workloads (the kernel "
    "module and the libraries must stay one version)";
// Where NVIDIA's installer puts libnvidia-ml.so.VERSION, by distribution.
constexpr std::array<std::string_view, 4> k_library_dirs = {
    "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"};

struct Facts {
  detect::PciReport pci;
  host::KernelFacts kernel;
};

const detect::Gpu* vgpu_guest_device(const detect::PciReport& pci) {
  for (const auto& gpu : pci.gpus)
    if (gpu.vgpu) return &gpu;
  return nullptr;
}

[[noreturn]] void refuse_vgpu_guest(const detect::Gpu& gpu) {
  const auto& branch = gpu.vgpu->host_driver_branch;
  throw PreflightRefused(
      PreflightRefused::Reason::vgpu_guest,
      "GPU " + gpu.function.address.to_string() + " is a vGPU guest device" +
          (branch ? " (the host runs driver branch " + *branch + ")" : "") +
          ": NVIDIA's datacenter driver does not run on it. Install the GRID guest driver of the "
          "host's branch, from NVIDIA's licensing portal, with --driver-run FILE; nothing was changed");
}

void refuse_unsigned(const host::KernelFacts& kernel, const DriverSettings& settings, const std::string& what) {
  if (kernel.secure_boot != host::SecureBoot::enabled || settings.allow_unsigned_modules) return;
  throw PreflightRefused(
      PreflightRefused::Reason::secure_boot_unsigned,
      "Secure Boot is on, and " + what + " builds the NVIDIA kernel modules on this host (DKMS), "
      "unsigned: the kernel would refuse to load them. Enrol a Machine Owner Key that DKMS signs "
      "with (mokutil --import) and pass --allow-unsigned-modules, or use signed modules (Ubuntu's "
      "precompiled linux-modules-nvidia packages, SUSE's signed open KMP), or turn Secure Boot "
      "off; nothing was changed");
}

bool available(const StageContext& ctx, const PackageSystem& system, const std::string& name) {
  const auto result = ctx.runner.run(system.query_available(name));
  return result.succeeded() && result.out.find_first_not_of(" \n") != std::string::npos;
}

// The headers package a DKMS build needs installed; nullopt when the kernel's headers are there.
std::optional<std::string> headers_to_install(const StageContext& ctx, const PackageSystem& system,
                                              const host::KernelFacts& kernel, const InstalledSet& installed,
                                              const std::string& package) {
  // Installed, yet no build tree: installing again would not help; DKMS will say what is wrong.
  if (kernel.headers_installed || installed.contains(package)) return std::nullopt;
  if (!available(ctx, system, package))
    throw PreflightRefused(
        PreflightRefused::Reason::missing_kernel_headers,
        package + " (the headers of the running kernel " + kernel.release + ", which DKMS builds "
        "the driver against) is in no repository this host knows, and /lib/modules/" +
        kernel.release + "/build is missing. If the host's package lists are missing or old, "
        "refresh them (apt-get update, dnf makecache); else update and reboot into the "
        "distribution's current kernel, or install this kernel's headers yourself; nothing was "
        "changed");
  return package;
}

std::string headers_package_of(Family family, const std::string& kernel_release) {
  switch (family) {
    case Family::apt: return "linux-headers-" + kernel_release;
    case Family::dnf: return "kernel-devel-" + kernel_release;
    case Family::zypper: return "kernel-default-devel";
  }
  return {};
}

// Another NVIDIA driver on the host: a .run's, or driver packages other than `wanted`.
std::optional<std::string> other_driver(const host::HostRoot& root, const InstalledSet& installed,
                                        const std::vector<std::string>& wanted) {
  if (root.exists(k_uninstaller))
    return "a driver installed by NVIDIA's .run installer (" + std::string(k_uninstaller) + ")";
  static const std::array<std::string_view, 5> prefixes = {"nvidia-driver", "cuda-drivers", "nvidia-open",
                                                           "kmod-nvidia", "nvidia-compute-utils"};
  for (const auto& [name, package] : installed) {
    if (std::find(wanted.begin(), wanted.end(), name) != wanted.end()) continue;
    for (auto prefix : prefixes)
      if (name.starts_with(prefix)) return name + " " + package.version;
  }
  return std::nullopt;
}

bool any_installed(const InstalledSet& installed, const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(), [&](const auto& name) { return installed.contains(name); });
}

// Fabric Manager at the driver's version, or else of its branch.
PackageRequest fabric_manager_request(const DriverPath& path, const DriverSettings& settings) {
  if (settings.version) return {path.fabric_manager, settings.version};
  return {path.fabric_manager, std::nullopt, driver_branch(settings)};
}

std::string describe_installed(const InstalledSet& installed, const std::vector<PackageRequest>& wanted) {
  const auto& main = wanted.front().name;
  return main + " " + installed.at(main).version + " is installed and held" +
         (wanted.size() > 1 ? ", with " + std::to_string(wanted.size() - 1) + " more driver package(s)" : "");
}

// The header of NVIDIA's .run installer: a Makeself archive with NVIDIA's label.
bool looks_like_nvidia_installer(const std::string& head) {
  return head.starts_with("#!/bin/sh") && head.find("Makeself") != std::string::npos &&
         head.find("NVIDIA Accelerated Graphics Driver") != std::string::npos;
}

std::optional<std::string> installer_version(const std::string& head) {
  static const std::regex label(R"(NVIDIA Accelerated Graphics Driver for Linux-[A-Za-z0-9_]+ ([0-9]+\.[0-9]+(\.[0-9]+)?))");
  std::smatch match;
  if (!std::regex_search(head, match, label)) return std::nullopt;
  return match[1].str();
}

bool run_driver_installed(const host::HostRoot& root, const std::string& version) {
  if (!root.exists(k_uninstaller)) return false;
  return std::any_of(k_library_dirs.begin(), k_library_dirs.end(), [&](auto dir) {
    return root.exists(std::string(dir) + "/libnvidia-ml.so." + version);
  });
}

// The .run file's version, after checking it is NVIDIA's installer. Throws UsageError.
std::string checked_installer_version(const host::HostRoot& root, const std::string& file) {
  const auto head = root.read_head_if_exists(file, 64 * 1024);
  if (!head) throw UsageError("--driver-run " + file + ": no such file under --root");
  if (!looks_like_nvidia_installer(*head))
    throw UsageError("--driver-run " + file + " is not NVIDIA's driver installer: it is not a "
                     "Makeself archive labelled \"NVIDIA Accelerated Graphics Driver\"");
  auto version = installer_version(*head);
  if (!version) throw UsageError("--driver-run " + file + ": its label names no driver version");
  return *version;
}

// After an install: load the new driver now, or say why a reboot must come first.
void plan_loading(const StageContext& ctx, const host::KernelFacts& kernel, StagePlan& plan) {
  if (kernel.nvidia_loaded) {
    plan.reboot_reason = "NVIDIA driver " + kernel.nvidia_version.value_or("(unknown version)") +
                         " is loaded; the one installed now replaces it at the next boot";
  } else if (kernel.nouveau_loaded) {
    plan.reboot_reason = "nouveau is loaded; NVIDIA's driver can bind the GPUs only after a reboot";
  } else if (ctx.root.is_system_root()) {
    plan.commands.push_back({{"modprobe", {"nvidia"}, std::chrono::minutes(2)},
                             "load the new driver now: no reboot needed"});
  } else {
    plan.notes.push_back("the driver loads at the host's next boot, or now with `modprobe nvidia` on it");
  }
}

// The driver packages this host wants, and how they stand there.
struct PackageStanding {
  PackageSystem system;
  DriverPath path;
  std::vector<PackageRequest> wanted;  // the driver packages, and Fabric Manager with NVSwitches
  InstalledSet installed;
  PackageGap gap;
  // Another driver that is there and stays: said why, and what to do to replace it.
  std::optional<std::string> left_alone;
};

PackageStanding package_standing(const StageContext& ctx, const detect::PciReport& pci,
                                 const host::KernelFacts& kernel, const Settings& settings) {
  const auto& driver = settings.driver;
  const auto modules = choose_modules(pci.gpus, driver.modules);
  auto system = packages::package_system_for(ctx.root, settings.proxy);
  auto path = driver_path(*host::read_os_release(ctx.root), system.family(), kernel.release,
                          ctx.root.machine(), driver, modules);
  auto wanted = path.packages;
  if (!pci.nvswitches.empty()) wanted.push_back(fabric_manager_request(path, driver));
  auto installed = system.installed(ctx.root, ctx.runner);
  auto gap = package_gap(installed, wanted);
  std::optional<std::string> left_alone;
  if (!gap.none() && !any_installed(installed, names_of(path.packages)))
    if (auto other = other_driver(ctx.root, installed, names_of(wanted))) {
      if (ctx.root.exists(k_uninstaller))
        left_alone = *other + " is installed: left alone. To replace it, run nvidia-uninstall first";
      else if (!driver.branch && !driver.version)
        left_alone = *other + " is installed: left alone. To replace it, ask for a branch with --driver-branch";
    }
  return {std::move(system), std::move(path), std::move(wanted), std::move(installed), std::move(gap),
          std::move(left_alone)};
}

}  // namespace

Inspection DriverStage::inspect(const StageContext& ctx, const StageRecord* applied) const {
  Facts facts;
  try {
    facts.pci = detect::read_pci_report(ctx.root, m_settings);
  } catch (const Error& e) {
    return {StageState::not_applicable, std::string("cannot read PCI: ") + e.what()};
  }
  if (facts.pci.gpus.empty()) return {StageState::not_applicable, "no NVIDIA GPU; no driver is installed"};
  facts.kernel = host::read_kernel_facts(ctx.root);
  const auto& settings = m_settings.driver;
  try {
    if (settings.run_file) {
      const auto version = checked_installer_version(ctx.root, *settings.run_file);
      if (run_driver_installed(ctx.root, version))
        return {StageState::applied, "NVIDIA driver " + version + " (from " + *settings.run_file + ") is installed"};
      return {applied ? StageState::drifted : StageState::pending, "NVIDIA driver " + version + " is not installed"};
    }
    if (vgpu_guest_device(facts.pci)) {
      if (facts.kernel.nvidia_loaded)
        return {StageState::applied, "vGPU guest; NVIDIA driver " + facts.kernel.nvidia_version.value_or("") + " is loaded"};
      return {StageState::pending, "vGPU guest without a driver: give the GRID guest driver with --driver-run FILE"};
    }
    const auto standing = package_standing(ctx, facts.pci, facts.kernel, m_settings);
    if (standing.gap.none()) return {StageState::applied, describe_installed(standing.installed, standing.wanted)};
    if (standing.left_alone) return {StageState::applied, *standing.left_alone};
    return {applied ? StageState::drifted : StageState::pending, standing.gap.describe(settings.version)};
  } catch (const PreflightRefused& refused) {
    return {StageState::not_applicable, refused.what()};
  } catch (const UsageError& usage) {
    return {StageState::not_applicable, usage.what()};
  }
}

StagePlan DriverStage::plan(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  Facts facts{detect::read_pci_report(ctx.root, m_settings), {}};
  if (facts.pci.gpus.empty()) {
    plan.notes.push_back("no NVIDIA GPU: no driver is installed");
    return plan;
  }
  facts.kernel = host::read_kernel_facts(ctx.root);
  const bool installs = m_settings.driver.run_file ? plan_run_file(ctx, facts.pci, facts.kernel, plan)
                                                   : plan_packages(ctx, facts.pci, facts.kernel, plan);
  if (installs) plan_loading(ctx, facts.kernel, plan);
  return plan;
}

bool DriverStage::plan_packages(const StageContext& ctx, const detect::PciReport& pci,
                                const host::KernelFacts& kernel, StagePlan& plan) const {
  const auto& settings = m_settings.driver;
  if (const auto* guest = vgpu_guest_device(pci)) {
    if (!kernel.nvidia_loaded) refuse_vgpu_guest(*guest);
    plan.notes.push_back("vGPU guest with NVIDIA driver " + kernel.nvidia_version.value_or("") +
                         " loaded (the GRID guest driver): left alone");
    return false;
  }
  const auto standing = package_standing(ctx, pci, kernel, m_settings);
  const auto& [system, path, wanted, installed, gap, left_alone] = standing;
  if (gap.none() || left_alone) {
    plan.notes.push_back(left_alone ? *left_alone : describe_installed(installed, wanted));
    return false;
  }
  const bool nvswitch = !pci.nvswitches.empty();
  system.require_programs(ctx.root);
  if (!gap.needs_install()) {
    // Installed as wanted, only not held: the holds, and nothing to load or reboot for.
    plan.undo = packages_before(installed, names_of(wanted), system.family());
    plan.undo_after_commands = record_added_packages(system, installed);
    if (auto hold_file = system.hold_file()) plan.files_changed_by_commands.push_back(*hold_file);
    plan_holds_only(ctx, system, gap.unheld, k_hold_reason, plan);
    return false;
  }
  plan.notes.insert(plan.notes.end(), path.why.begin(), path.why.end());
  // Installed before the driver, not held: the kernel's headers (DKMS builds as the driver
  // installs) and what the holds need (dnf's versionlock plugin).
  std::vector<PackageRequest> prerequisites;
  for (auto& support : system.hold_support_packages(ctx.root)) prerequisites.push_back({support, std::nullopt});
  // Installed with the driver, not held: Ubuntu's signed modules.
  std::vector<PackageRequest> extra;
  bool modules_signed = path.modules_signed;
  if (path.precompiled_modules && available(ctx, system, *path.precompiled_modules)) {
    extra.push_back({*path.precompiled_modules, std::nullopt});
    modules_signed = true;
    plan.notes.push_back(*path.precompiled_modules + ": Canonical's signed modules for this kernel, no DKMS build");
  }
  if (!modules_signed) {
    refuse_unsigned(kernel, settings, path.packages.front().name);
    if (auto headers = headers_to_install(ctx, system, kernel, installed, path.headers_package))
      prerequisites.push_back({*headers, std::nullopt});
  }
  if (nvswitch)
    plan.notes.push_back(std::to_string(pci.nvswitches.size()) + " NVSwitch(es): " + path.fabric_manager +
                         (settings.version ? " at " + *settings.version : " from the same repository, in the same transaction") +
                         ", its service enabled");
  auto all = wanted;
  all.insert(all.end(), extra.begin(), extra.end());
  auto recorded = names_of(all);
  for (const auto& request : prerequisites) recorded.push_back(request.name);
  plan.undo = packages_before(installed, recorded, system.family());
  plan.undo_after_commands = record_added_packages(system, installed);
  if (auto hold_file = system.hold_file()) plan.files_changed_by_commands.push_back(*hold_file);
  if (path.module_stream) plan.files_changed_by_commands.push_back(std::string(k_dnf_module_file));
  if (path.pin_with_apt_preferences) add_apt_pin(ctx, driver_branch(settings), plan);
  if (path.repository) {
    const auto file = plan_repository(ctx, system, *path.repository, m_settings.proxy,
                                      m_settings.runtime.templates_dir, plan);
    if (auto refresh = system.refresh(file, path.repository->id))
      plan.commands.push_back({*refresh, "read the repository's index, checking its signature"});
  }
  if (auto held = held_among(installed, names_of(wanted)); !held.empty())
    plan.commands.push_back({system.release(held), "let the held packages move to the new version"});
  if (!prerequisites.empty())
    plan.commands.push_back({system.install(prerequisites), "before the driver: DKMS builds it "
                             "against the kernel's headers as it installs, and the holds need their tool"});
  add_install_commands(system, path, all, plan);
  plan.commands.push_back({system.hold(names_of(wanted)), k_hold_reason});
  if (nvswitch) {
    plan.commands.push_back({{"systemctl", {"enable", path.fabric_manager_service}, std::chrono::minutes(1)},
                             "NVSwitch systems need Fabric Manager running before CUDA can use the GPUs"});
    plan.undo["enabled_service"] = path.fabric_manager_service;
  }
  return true;
}

void DriverStage::add_apt_pin(const StageContext& ctx, const std::string& branch, StagePlan& plan) const {
  const auto& version = m_settings.driver.version;
  const auto tpl = config::read_template(m_settings.runtime.templates_dir, "driver/apt-preferences");
  const auto text = config::render_placeholders(
      tpl, {{"what", version ? *version : "branch " + branch}, {"pin", version ? *version : branch + ".*"}});
  const std::string path(k_apt_preferences);
  if (auto before = ctx.root.read_if_exists(path); before != text)
    plan.edits.push_back({path, before, text, 0644});
}

void DriverStage::add_install_commands(const PackageSystem& system, const DriverPath& path,
                                       const std::vector<PackageRequest>& all, StagePlan& plan) const {
  const auto& version = m_settings.driver.version;
  std::vector<PackageRequest> rest = all;
  if (path.module_stream && !version) {
    // The stream's default profile installs the driver packages; the rest come after it.
    plan.commands.push_back({system.module_install(*path.module_stream), "the driver, from its module stream"});
    std::erase_if(rest, [&](const PackageRequest& request) {
      return std::any_of(path.packages.begin(), path.packages.end(),
                         [&](const PackageRequest& driver) { return driver.name == request.name; });
    });
    if (rest.empty()) return;
  } else if (path.module_stream) {
    plan.commands.push_back({system.module_enable(*path.module_stream), "the stream the pinned version belongs to"});
  }
  plan.commands.push_back({system.install(rest), version ? "the driver, every package at " + *version
                                                         : "the driver, at the branch's newest version"});
}

bool DriverStage::plan_run_file(const StageContext& ctx, const detect::PciReport& pci,
                                const host::KernelFacts& kernel, StagePlan& plan) const {
  const auto& settings = m_settings.driver;
  const auto& file = *settings.run_file;
  const auto version = checked_installer_version(ctx.root, file);
  if (run_driver_installed(ctx.root, version)) {
    plan.notes.push_back("NVIDIA driver " + version + " (from " + file + ") is installed");
    return false;
  }
  const auto modules = choose_modules(pci.gpus, settings.modules);
  refuse_unsigned(kernel, settings, "NVIDIA's installer");
  plan.notes.push_back("NVIDIA's installer " + file + " (driver " + version + "), run without "
                       "questions (--silent) and registered with DKMS");
  plan.notes.push_back(modules.why);
  if (!pci.nvswitches.empty())
    plan.notes.push_back(std::to_string(pci.nvswitches.size()) + " NVSwitch(es): NVIDIA's .run "
                         "installer does not ship Fabric Manager; install Fabric Manager " +
                         version + " yourself, or CUDA cannot use the GPUs");
  plan.undo = nlohmann::json::object();
  if (!kernel.headers_installed) {
    // DKMS builds against the running kernel's headers: installed first, from the distribution.
    const auto system = packages::package_system_for(ctx.root, m_settings.proxy);
    system.require_programs(ctx.root);
    const auto installed = system.installed(ctx.root, ctx.runner);
    if (auto headers = headers_to_install(ctx, system, kernel, installed,
                                          headers_package_of(system.family(), kernel.release))) {
      plan.undo = packages_before(installed, {*headers}, system.family());
      plan.undo_after_commands = record_added_packages(system, installed);
      plan.commands.push_back({system.install({{*headers, std::nullopt}}),
                               "DKMS builds the driver against the running kernel's headers"});
    }
  }
  plan.undo["run_file"] = file;
  plan.undo["run_version"] = version;
  plan.commands.push_back({{"sh", {file, "--silent", "--dkms", modules.open ? "-m=kernel-open" : "-m=kernel"}, k_run_timeout},
                           "NVIDIA's installer, non-interactive"});
  return true;
}

std::vector<PlannedCommand> DriverStage::commands_after_revert(const StageContext& ctx,
                                                               const nlohmann::json& undo) const {
  std::vector<PlannedCommand> commands;
  if (undo.contains("enabled_service") && ctx.root.find_executable("systemctl"))
    commands.push_back({{"systemctl", {"disable", undo["enabled_service"].get<std::string>()}, std::chrono::minutes(1)},
                        "apply enabled Fabric Manager's service"});
  if (undo.contains("run_version") && ctx.root.exists(k_uninstaller))
    commands.push_back({{std::string(k_uninstaller), {"--silent"}, k_run_timeout},
                        "NVIDIA's uninstaller takes out what its installer put there"});
  auto packages = package_revert_commands(ctx, undo);
  commands.insert(commands.end(), packages.begin(), packages.end());
  return commands;
}

}  // namespace gns::stages
