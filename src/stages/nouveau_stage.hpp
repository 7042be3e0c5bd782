#pragma once
// The nouveau stage: keeps the kernel's own nouveau driver off the NVIDIA GPUs so that
// NVIDIA's driver can bind them. It writes /etc/modprobe.d/blacklist-nouveau.conf (from
// templates/nouveau/) and rebuilds the initramfs the distribution's way, since nouveau can
// load from the initramfs before the root file system's modprobe.d is read. A nouveau that is
// loaded already stays until the next boot: the plan says a reboot is needed.

#include <optional>

#include "../host/runner.hpp"
#include "../settings.hpp"
#include "stage.hpp"

namespace gns::stages {

// The file this stage owns.
inline constexpr std::string_view k_nouveau_blacklist_path = "/etc/modprobe.d/blacklist-nouveau.conf";

// The command that rebuilds the initramfs of every installed kernel under `root`:
// update-initramfs (Debian, Ubuntu), else dracut (RHEL and its rebuilds, SUSE, Fedora);
// nullopt when neither is installed there.
std::optional<host::Command> initramfs_rebuild_command(const host::HostRoot& root);

class NouveauStage : public Stage {
public:
  // Reads PCI as `settings` say (--pci-dump, else the root's sysfs); templates from
  // settings.runtime.templates_dir.
  explicit NouveauStage(Settings settings) : m_settings(std::move(settings)) {}

  std::string_view name() const override { return "nouveau"; }
  // Applied when nouveau is blacklisted anywhere modprobe looks (or on the kernel command
  // line), by us or not; not applicable without an NVIDIA GPU or readable PCI.
  Inspection inspect(const StageContext& ctx, const StageRecord* applied) const override;
  // Nothing when there is no NVIDIA GPU or nouveau is blacklisted already; else our file and
  // the initramfs rebuild. Throws Error when PCI cannot be read (apply must not guess).
  StagePlan plan(const StageContext& ctx) const override;
  // The initramfs rebuilt again, now without our blacklist.
  std::vector<PlannedCommand> commands_after_revert(const StageContext& ctx,
                                                    const nlohmann::json& undo) const override;

private:
  Settings m_settings;
};

}  // namespace gns::stages
