#include "toolkit_stage.hpp"

#include <algorithm>

#include "../error.hpp"
#include "../packages/package_system.hpp"
#include "../packages/repository.hpp"
#include "../util/strings.hpp"

namespace gns::stages {
namespace {

using packages::Family;
using packages::InstalledSet;
using packages::PackageSystem;

constexpr const char* k_repository_id = "nvidia-container-toolkit";
constexpr const char* k_repository_name = "NVIDIA Container Toolkit";
// Undo keys: "before:NAME" {version (null: not installed), held} as the first apply found each
// toolkit package; "added:NAME" = version for every package an apply installed that was not
// there (dependencies too). Flat keys, so that the journal keeps the first apply's value of each.
constexpr std::string_view k_before = "before:";
constexpr std::string_view k_added = "added:";
constexpr const char* k_hold_reason =
    "an unattended upgrade must not move the toolkit under running containers";

// How the installed toolkit packages stand against what is wanted.
struct Gap {
  std::vector<std::string> missing;        // not installed
  std::vector<std::string> other_version;  // "NAME (VERSION)": installed, not at the pinned version
  std::vector<std::string> unheld;         // not held (installed or not)

  bool needs_install() const { return !missing.empty() || !other_version.empty(); }
  bool none() const { return !needs_install() && unheld.empty(); }
};

Gap gap_of(const InstalledSet& installed, const std::optional<std::string>& version) {
  Gap gap;
  for (const auto& name : toolkit_packages()) {
    const auto found = installed.find(name);
    if (found == installed.end())
      gap.missing.push_back(name);
    else if (version && found->second.version != *version)
      gap.other_version.push_back(name + " (" + found->second.version + ")");
    if (found == installed.end() || !found->second.held) gap.unheld.push_back(name);
  }
  return gap;
}

std::string describe_gap(const Gap& gap, const std::optional<std::string>& version) {
  std::vector<std::string> parts;
  if (!gap.missing.empty()) parts.push_back("not installed: " + util::join(gap.missing, ", "));
  if (!gap.other_version.empty())
    parts.push_back("not at " + version.value_or("") + ": " + util::join(gap.other_version, ", "));
  if (!gap.unheld.empty() && !gap.needs_install())
    parts.push_back("not held: " + util::join(gap.unheld, ", "));
  return util::join(parts, "; ");
}

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

void add_edit(StagePlan& plan, const std::string& path, const std::optional<std::string>& before,
              const std::string& after) {
  if (before != after) plan.edits.push_back({path, before, after, 0644});
}

std::vector<packages::PackageRequest> requests(const std::optional<std::string>& version) {
  std::vector<packages::PackageRequest> wanted;
  for (const auto& name : toolkit_packages()) wanted.push_back({name, version});
  return wanted;
}

// Each toolkit package as it stands before apply changes it.
nlohmann::json before_record(const InstalledSet& installed) {
  auto undo = nlohmann::json::object();
  for (const auto& name : toolkit_packages()) {
    const auto found = installed.find(name);
    nlohmann::json version = nullptr;
    if (found != installed.end()) version = found->second.version;
    undo[std::string(k_before) + name] = {{"version", version},
                                          {"held", found != installed.end() && found->second.held}};
  }
  return undo;
}

// After the install: every package it added, dependencies included, so revert removes them.
std::function<nlohmann::json(const StageContext&)> record_added(const PackageSystem& system,
                                                                InstalledSet before) {
  return [system, before = std::move(before)](const StageContext& ctx) {
    auto undo = nlohmann::json::object();
    for (const auto& [name, package] : system.installed(ctx.root, ctx.runner))
      if (!before.contains(name)) undo[std::string(k_added) + name] = package.version;
    return undo;
  };
}

std::vector<std::string> held_toolkit_packages(const InstalledSet& installed) {
  std::vector<std::string> held;
  for (const auto& name : toolkit_packages())
    if (auto found = installed.find(name); found != installed.end() && found->second.held)
      held.push_back(name);
  return held;
}

std::string name_after(const std::string& key, std::string_view prefix) {
  return key.substr(prefix.size());
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
    system = packages::package_system_for(ctx.root, m_settings.toolkit.proxy);
  } catch (const PreflightRefused& refused) {
    return {StageState::not_applicable, refused.what()};
  }
  const auto installed = system->installed(ctx.root, ctx.runner);
  const auto gap = gap_of(installed, m_settings.toolkit.version);
  if (gap.none()) return {StageState::applied, describe_installed(installed)};
  const auto detail = describe_gap(gap, m_settings.toolkit.version);
  if (applied) return {StageState::drifted, detail + " (changed since gpu-node-setup installed it)"};
  return {StageState::pending, detail};
}

StagePlan ToolkitStage::plan(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  const auto& settings = m_settings.toolkit;
  const auto system = packages::package_system_for(ctx.root, settings.proxy);
  const auto installed = system.installed(ctx.root, ctx.runner);
  const auto gap = gap_of(installed, settings.version);
  if (gap.none()) {
    plan.notes.push_back(describe_installed(installed));
    return plan;
  }
  system.require_programs(ctx.root);
  plan.undo = before_record(installed);
  plan.undo["family"] = std::string(packages::to_string(system.family()));
  if (auto hold_file = system.hold_file()) plan.files_changed_by_commands.push_back(*hold_file);
  plan.undo_after_commands = record_added(system, installed);
  std::vector<packages::PackageRequest> wanted;
  for (auto& support : system.hold_support_packages(ctx.root)) wanted.push_back({support, std::nullopt});
  if (!gap.needs_install()) {
    if (!wanted.empty())
      plan.commands.push_back({system.install(wanted), "the holds need dnf's versionlock plugin"});
    plan.commands.push_back({system.hold(gap.unheld), k_hold_reason});
    return plan;
  }
  const auto repository_file = add_repository(ctx, system, plan);
  if (auto refresh = system.refresh(repository_file, k_repository_id))
    plan.commands.push_back({*refresh, "read the repository's index, checking its signature"});
  // dnf's versionlock and zypper's locks would refuse the new version: released first, and
  // every package held again after.
  if (auto held = held_toolkit_packages(installed); !held.empty())
    plan.commands.push_back({system.release(held), "let the held packages move to the new version"});
  const auto toolkit = requests(settings.version);
  wanted.insert(wanted.begin(), toolkit.begin(), toolkit.end());
  plan.commands.push_back({system.install(wanted),
                           settings.version ? "the toolkit, every package at " + *settings.version
                                            : "the toolkit, at the repository's newest version"});
  plan.commands.push_back({system.hold(toolkit_packages()), k_hold_reason});
  return plan;
}

std::string ToolkitStage::add_repository(const StageContext& ctx, const PackageSystem& system,
                                         StagePlan& plan) const {
  const auto family = system.family();
  const auto repository = repository_for(family, m_settings.toolkit);
  const auto path = packages::repository_file_path(family, k_repository_id);
  const auto existing = ctx.root.read_if_exists(path);
  if (existing && !existing->starts_with(packages::k_repository_marker)) {
    plan.notes.push_back(path + " was not written by gpu-node-setup: it is used as it is");
    return path;
  }
  const auto& templates = m_settings.runtime.templates_dir;
  if (family != Family::apt) {
    add_edit(plan, path, existing, packages::render_repository_file(family, repository, "", templates));
    return path;
  }
  // A keyring we wrote before, still named by the file as we would write it: no download.
  for (bool armoured : {true, false}) {
    const auto keyring = packages::keyring_path(k_repository_id, armoured);
    if (existing && ctx.root.exists(keyring) &&
        packages::render_repository_file(family, repository, keyring, templates) == *existing)
      return path;
  }
  const auto key = packages::fetch_key(ctx.root, ctx.runner, repository.key_url, m_settings.toolkit.proxy);
  const auto keyring = packages::keyring_path(k_repository_id, packages::is_armoured_key(key));
  add_edit(plan, keyring, ctx.root.read_if_exists(keyring), key);
  add_edit(plan, path, existing, packages::render_repository_file(family, repository, keyring, templates));
  return path;
}

std::vector<PlannedCommand> ToolkitStage::commands_after_revert(const StageContext& ctx,
                                                                const nlohmann::json& undo) const {
  const auto family = packages::parse_family(undo.value("family", ""));
  if (!family) return {};
  const PackageSystem system(*family, m_settings.toolkit.proxy);
  system.require_programs(ctx.root);
  const auto installed = system.installed(ctx.root, ctx.runner);
  std::vector<std::string> release;
  std::vector<std::string> remove;
  for (const auto& [key, value] : undo.items()) {
    std::string name;
    bool ours = false;
    bool held_before = false;
    if (key.starts_with(k_before)) {
      name = name_after(key, k_before);
      ours = value["version"].is_null();
      held_before = value.value("held", false);
    } else if (key.starts_with(k_added)) {
      name = name_after(key, k_added);
      ours = true;
    } else {
      continue;
    }
    const auto found = installed.find(name);
    if (found == installed.end()) continue;
    if (found->second.held && !held_before && !std::count(release.begin(), release.end(), name))
      release.push_back(name);
    if (ours && !std::count(remove.begin(), remove.end(), name)) remove.push_back(name);
  }
  std::vector<PlannedCommand> commands;
  // Where holds live in a file, revert has put it back already, byte for byte.
  if (!release.empty() && !system.hold_file())
    commands.push_back({system.release(release), "holds gpu-node-setup set"});
  if (!remove.empty())
    commands.push_back({system.remove(remove), "packages gpu-node-setup installed; those that "
                                               "were there before stay"});
  return commands;
}

}  // namespace gns::stages
