#pragma once
// Which NVIDIA driver a host gets, decided from detect's facts alone (no I/O): open or
// proprietary kernel modules from the GPUs' architecture, and the distribution's way of
// shipping the driver, with the reasons the plan prints.

#include <optional>
#include <string>
#include <vector>

#include "../detect/detect.hpp"
#include "../host/os_release.hpp"
#include "../packages/package_system.hpp"
#include "../packages/repository.hpp"
#include "../settings.hpp"

namespace gns::stages {

// NVIDIA's production branch this version of the tool was tested with; --driver-branch or
// `branch` in the site config file choose another.
inline constexpr std::string_view k_default_driver_branch = "580";

struct ModulesChoice {
  bool open = true;
  std::string why;  // one sentence for the plan
};

// Open modules where every GPU supports them (NVIDIA's default since 560) and Blackwell needs
// them; proprietary where a GPU is older than Turing. `asked` overrides the default, within
// what the GPUs allow. Throws UsageError when the GPUs, or they and `asked`, cannot go together.
ModulesChoice choose_modules(const std::vector<detect::Gpu>& gpus, DriverModules asked);

// The branch: `settings.branch`, else the leading number of `settings.version`, else the
// default. Throws UsageError when the two disagree.
std::string driver_branch(const DriverSettings& settings);

// How the driver reaches this distribution.
struct DriverPath {
  std::string distro;                                // "Ubuntu 22.04.4 LTS", for the plan
  std::vector<packages::PackageRequest> packages;    // installed together, then held
  std::optional<packages::Repository> repository;    // added first; nullopt: the distro's own
  std::optional<std::string> module_stream;          // dnf: "nvidia-driver:580-open"
  // Ubuntu: Canonical's signed, precompiled modules for the running kernel, used instead of a
  // DKMS build when a repository has them.
  std::optional<std::string> precompiled_modules;
  std::string headers_package;                       // what a DKMS build needs
  std::string fabric_manager;                        // the branch's Fabric Manager package
  std::string fabric_manager_service = "nvidia-fabricmanager";
  bool modules_signed = false;                       // signed by the distribution: no DKMS
  // apt and NVIDIA's CUDA repository: the metapackage pins nothing below it (">=" only), so an
  // apt preferences file pins every driver package to the version (or the branch).
  bool pin_with_apt_preferences = false;
  std::vector<std::string> why;                      // notes for the plan
};

// The path for `os` (whose package system is `family`) and the running kernel `kernel_release`
// on CPU `machine` (uname: x86_64, aarch64). Throws PreflightRefused (unsupported_distro) for a
// distribution without one (Fedora, Amazon Linux: --driver-run is the way there).
DriverPath driver_path(const host::OsRelease& os, packages::Family family,
                       const std::string& kernel_release, const std::string& machine,
                       const DriverSettings& settings, const ModulesChoice& modules);

}  // namespace gns::stages
