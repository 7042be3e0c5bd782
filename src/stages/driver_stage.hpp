#pragma once
// The driver stage: NVIDIA's driver, the distribution's way (stages/driver_choice.hpp: Ubuntu's
// server series with Canonical's signed precompiled modules where they exist, NVIDIA's CUDA
// repository on Debian, RHEL and SLES), or NVIDIA's .run installer (--driver-run), run
// non-interactively with DKMS. Kernel headers come with a DKMS build; Fabric Manager of the
// driver's version comes where NVSwitches are; the packages are held. Before anything is
// touched it refuses, each with its own exit code, what cannot work: a vGPU guest asked for a
// datacenter driver, unsigned modules under Secure Boot, headers no repository has, a
// distribution it has no driver path for. Revert removes what it added and releases its holds.

#include "../detect/detect.hpp"
#include "../host/kernel_facts.hpp"
#include "../packages/package_system.hpp"
#include "../settings.hpp"
#include "driver_choice.hpp"
#include "stage.hpp"

namespace gns::stages {

class DriverStage : public Stage {
public:
  // Reads PCI as `settings` say (--pci-dump, else the root's sysfs).
  explicit DriverStage(Settings settings) : m_settings(std::move(settings)) {}

  std::string_view name() const override { return "driver"; }
  // Applied when the driver packages (and Fabric Manager where NVSwitches are) are installed
  // at the pinned version and held, or the .run's driver is installed; reads the package
  // database's files and sysfs only (rpm -qa on rpm hosts). Not applicable without an NVIDIA
  // GPU, or where no driver path exists.
  Inspection inspect(const StageContext& ctx, const StageRecord* applied) const override;
  // Nothing when the driver is in place, or another NVIDIA driver is and no branch or version
  // was asked for; else the repository, the packages (or the .run), the holds, Fabric
  // Manager's service, and either `modprobe nvidia` (root "/") or a reboot when an NVIDIA
  // driver is loaded already. Throws PreflightRefused for what cannot work, UsageError for a
  // --driver-run file that is no NVIDIA installer, Error when PCI cannot be read.
  StagePlan plan(const StageContext& ctx) const override;
  // Fabric Manager's service disabled, the .run's driver uninstalled, holds released and the
  // packages apply added removed.
  std::vector<PlannedCommand> commands_after_revert(const StageContext& ctx,
                                                    const nlohmann::json& undo) const override;

private:
  // The plan from packages (plan_packages) or from --driver-run's installer (plan_run_file);
  // true when it installs a driver (which then needs loading).
  bool plan_packages(const StageContext& ctx, const detect::PciReport& pci,
                     const host::KernelFacts& kernel, StagePlan& plan) const;
  bool plan_run_file(const StageContext& ctx, const detect::PciReport& pci,
                     const host::KernelFacts& kernel, StagePlan& plan) const;
  // The apt preferences file that pins every driver package to the version or `branch`.
  void add_apt_pin(const StageContext& ctx, const std::string& branch, StagePlan& plan) const;
  // The install of `all` (driver packages and extras) the way `path` installs them: a dnf
  // module stream's profile, or the packages by name.
  void add_install_commands(const packages::PackageSystem& system, const DriverPath& path,
                            const std::vector<packages::PackageRequest>& all, StagePlan& plan) const;

  Settings m_settings;
};

}  // namespace gns::stages
