#include "nouveau_stage.hpp"

#include <algorithm>

#include "../config/templates.hpp"
#include "../detect/detect.hpp"
#include "../error.hpp"
#include "../host/kernel_facts.hpp"
#include "../util/strings.hpp"

namespace gns::stages {
namespace {

constexpr std::string_view k_template = "nouveau/blacklist-nouveau.conf";
// Rebuilding every kernel's initramfs takes a minute or two on a slow disk; never unbounded.
constexpr auto k_initramfs_timeout = std::chrono::minutes(15);

// The places other than our file that blacklist nouveau already.
std::vector<std::string> blacklisted_elsewhere(const host::KernelFacts& kernel) {
  std::vector<std::string> places = kernel.nouveau_blacklisted_in;
  std::erase(places, std::string(k_nouveau_blacklist_path));
  return places;
}

constexpr const char* k_loaded_reason =
    "nouveau is loaded now; it stays until the next boot, and NVIDIA's driver cannot bind the "
    "GPUs while it is";

}  // namespace

std::optional<host::Command> initramfs_rebuild_command(const host::HostRoot& root) {
  if (root.find_executable("update-initramfs"))
    return host::Command{"update-initramfs", {"-u", "-k", "all"}, k_initramfs_timeout};
  if (root.find_executable("dracut"))
    return host::Command{"dracut", {"-f", "--regenerate-all"}, k_initramfs_timeout};
  return std::nullopt;
}

Inspection NouveauStage::inspect(const StageContext& ctx, const StageRecord* applied) const {
  detect::PciReport pci;
  try {
    pci = detect::read_pci_report(ctx.root, m_settings);
  } catch (const Error& e) {
    return {StageState::not_applicable, std::string("cannot read PCI: ") + e.what()};
  }
  if (pci.gpus.empty()) return {StageState::not_applicable, "no NVIDIA GPU; nouveau is left alone"};
  auto kernel = host::read_kernel_facts(ctx.root);
  if (!kernel.nouveau_blacklisted_in.empty()) {
    std::string detail = "nouveau is blacklisted in " + util::join(kernel.nouveau_blacklisted_in, ", ");
    if (kernel.nouveau_loaded) detail += "; it is still loaded until the next boot";
    return {StageState::applied, detail};
  }
  if (applied)
    return {StageState::drifted, std::string(k_nouveau_blacklist_path) +
                                     " no longer blacklists nouveau (removed or changed since)"};
  return {StageState::pending, "nouveau is not blacklisted" +
                                   std::string(kernel.nouveau_loaded ? " and is loaded" : "")};
}

StagePlan NouveauStage::plan(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  if (detect::read_pci_report(ctx.root, m_settings).gpus.empty()) {
    plan.notes.push_back("no NVIDIA GPU: nouveau is left alone");
    return plan;
  }
  auto kernel = host::read_kernel_facts(ctx.root);
  if (kernel.nouveau_loaded) plan.reboot_reason = k_loaded_reason;
  if (!kernel.nouveau_blacklisted_in.empty()) {
    if (auto others = blacklisted_elsewhere(kernel); !others.empty())
      plan.notes.push_back("nouveau is blacklisted already, in " + util::join(others, ", "));
    return plan;
  }
  auto blacklist = config::read_template(m_settings.runtime.templates_dir, k_template);
  if (!host::blacklists_module(blacklist.text, "nouveau"))
    throw ConfigError(blacklist.path, 1, 1, "the template does not blacklist nouveau (it needs a "
                                            "`blacklist nouveau` line)");
  const std::string path(k_nouveau_blacklist_path);
  plan.edits.push_back({path, ctx.root.read_if_exists(path), blacklist.text, 0644});
  if (auto rebuild = initramfs_rebuild_command(ctx.root))
    plan.commands.push_back({*rebuild, "nouveau must not load from the initramfs either"});
  else
    plan.notes.push_back("neither update-initramfs nor dracut is installed: if this host's "
                         "initramfs holds nouveau, rebuild it yourself");
  return plan;
}

std::vector<PlannedCommand> NouveauStage::commands_after_revert(const StageContext& ctx,
                                                                const nlohmann::json&) const {
  // Asked before revert restores the files: our blacklist is still there when revert will
  // take it away; when it is gone already, the initramfs has nothing to lose.
  if (!ctx.root.exists(k_nouveau_blacklist_path)) return {};
  if (auto rebuild = initramfs_rebuild_command(ctx.root))
    return {{*rebuild, "the initramfs must lose our blacklist too"}};
  return {};
}

}  // namespace gns::stages
