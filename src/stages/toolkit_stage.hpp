#pragma once
// The toolkit stage: NVIDIA's container toolkit (nvidia-container-toolkit and its companion
// packages -base, libnvidia-container-tools and libnvidia-container1, all at one version),
// installed from NVIDIA's repository (or a mirror's) with its signing key, and held so that an
// unattended upgrade cannot move it. Revert removes the packages, the repository file and the
// keyring it added, and releases the holds it set; a package that was installed before is
// never removed. It does not look for a GPU: an image baked on a machine without one still
// gets the toolkit the runtime stage points the container runtime at.

#include <string>
#include <vector>

#include "../settings.hpp"
#include "stage.hpp"

namespace gns::stages {

// The packages of the toolkit, installed and held together at one version.
const std::vector<std::string>& toolkit_packages();

// NVIDIA's repository and key for the package systems (README.md "Configuration file").
inline constexpr std::string_view k_nvidia_toolkit_apt_url =
    "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH)";
inline constexpr std::string_view k_nvidia_toolkit_rpm_url =
    "https://nvidia.github.io/libnvidia-container/stable/rpm/$basearch";
inline constexpr std::string_view k_nvidia_toolkit_key_url =
    "https://nvidia.github.io/libnvidia-container/gpgkey";

class ToolkitStage : public Stage {
public:
  // Templates come from settings.runtime.templates_dir.
  explicit ToolkitStage(Settings settings) : m_settings(std::move(settings)) {}

  std::string_view name() const override { return "toolkit"; }
  // Applied when every toolkit package is installed (at the pinned version, if one is) and
  // held; reads the package database's files, runs no package manager (rpm -qa on dnf and
  // zypper hosts). Not applicable on an unsupported distribution.
  Inspection inspect(const StageContext& ctx, const StageRecord* applied) const override;
  // Nothing when all is in place; else the repository file and key (unless the repository
  // is configured already), its refresh, the install of what is missing or at another
  // version, and the holds. Throws PreflightRefused on an unsupported distribution.
  StagePlan plan(const StageContext& ctx) const override;
  // Holds released and packages removed, as the journal's undo data says.
  std::vector<PlannedCommand> commands_after_revert(const StageContext& ctx,
                                                    const nlohmann::json& undo) const override;

private:
  Settings m_settings;
};

}  // namespace gns::stages
