#include "toolkit_stage.hpp"

#include <algorithm>

#include "../error.hpp"
#include "../packages/package_system.hpp"
#include "package_set.hpp"

namespace gns::stages {
namespace {

using packages::Family;
using packages::InstalledSet;
using packages::PackageSystem;

constexpr const char* k_repository_id = "nvidia-container-toolkit";
constexpr const char* k_repository_name = "NVIDIA Container Toolkit";
constexpr const char* k_hold_reason =
    "an unattended upgrade must not move the toolkit under running containers";

std::string describe_installed(const InstalledSet& installed) {
  const auto& main = installed.at(toolkit_packages().front());
  return toolkit_packages().front() + " " + main.version + " and its companion packages are "
         "installed and held";
}

packages::Repository repository_for(Family family, const ToolkitSettings& settings) {
  const auto nvidia_url = family == Family::apt ? k_nvidia_toolkit_apt_url : k_nvidia_toolkit_rpm_url;
  return {k_repository_id, k_repository_name, settings.repository_url.value_or(std::string(nvidia_url)),
          settings.key_url.value_or(std::string(k_nvidia_toolkit_key_url))};
}

std::vector<packages::PackageRequest> requests(const std::optional<std::string>& version) {
  std::vector<packages::PackageRequest> wanted;
  for (const auto& name : toolkit_packages()) wanted.push_back({name, version});
  return wanted;
}

}  // namespace

const std::vector<std::string>& toolkit_packages() {
  static const std::vector<std::string> names = {"nvidia-container-toolkit",
                                                 "nvidia-container-toolkit-base",
                                                 "libnvidia-container-tools", "libnvidia-container1"};
  return names;
}

Inspection ToolkitStage::inspect(const StageContext& ctx, const StageRecord* applied) const {
  std::optional<PackageSystem> system;
  try {
    system = packages::package_system_for(ctx.root, m_settings.proxy);
  } catch (const PreflightRefused& refused) {
    return {StageState::not_applicable, refused.what()};
  }
  const auto installed = system->installed(ctx.root, ctx.runner);
  const auto gap = package_gap(installed, requests(m_settings.toolkit.version));
  if (gap.none()) return {StageState::applied, describe_installed(installed)};
  const auto detail = gap.describe(m_settings.toolkit.version);
  if (applied) return {StageState::drifted, detail + " (changed since gpu-node-setup installed it)"};
  return {StageState::pending, detail};
}

StagePlan ToolkitStage::plan(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  const auto& settings = m_settings.toolkit;
  const auto system = packages::package_system_for(ctx.root, m_settings.proxy);
  const auto installed = system.installed(ctx.root, ctx.runner);
  const auto gap = package_gap(installed, requests(settings.version));
  if (gap.none()) {
    plan.notes.push_back(describe_installed(installed));
    return plan;
  }
  system.require_programs(ctx.root);
  plan.undo = packages_before(installed, toolkit_packages(), system.family());
  if (auto hold_file = system.hold_file()) plan.files_changed_by_commands.push_back(*hold_file);
  plan.undo_after_commands = record_added_packages(system, installed);
  if (!gap.needs_install()) {
    plan_holds_only(ctx, system, gap.unheld, k_hold_reason, plan);
    return plan;
  }
  std::vector<packages::PackageRequest> wanted = requests(settings.version);
  for (auto& support : system.hold_support_packages(ctx.root)) wanted.push_back({support, std::nullopt});
  const auto repository_file =
      plan_repository(ctx, system, repository_for(system.family(), settings), m_settings.proxy,
                      m_settings.runtime.templates_dir, plan);
  if (auto refresh = system.refresh(repository_file, k_repository_id))
    plan.commands.push_back({*refresh, "read the repository's index, checking its signature"});
  // dnf's versionlock and zypper's locks would refuse the new version: released first, and
  // every package held again after.
  if (auto held = held_among(installed, toolkit_packages()); !held.empty())
    plan.commands.push_back({system.release(held), "let the held packages move to the new version"});
  plan.commands.push_back({system.install(wanted),
                           settings.version ? "the toolkit, every package at " + *settings.version
                                            : "the toolkit, at the repository's newest version"});
  plan.commands.push_back({system.hold(toolkit_packages()), k_hold_reason});
  return plan;
}

std::vector<PlannedCommand> ToolkitStage::commands_after_revert(const StageContext& ctx,
                                                                const nlohmann::json& undo) const {
  return package_revert_commands(ctx, undo);
}

}  // namespace gns::stages
