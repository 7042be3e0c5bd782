#include "package_set.hpp"

#include <algorithm>

#include "../error.hpp"
#include "../util/strings.hpp"

namespace gns::stages {
namespace {

using packages::Family;
using packages::InstalledSet;
using packages::PackageSystem;

constexpr std::string_view k_before = "before:";
constexpr std::string_view k_added = "added:";

void add_edit(StagePlan& plan, const std::string& path, const std::optional<std::string>& before,
              const std::string& after) {
  if (before != after) plan.edits.push_back({path, before, after, 0644});
}

void add_once(std::vector<std::string>& names, const std::string& name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

}  // namespace

std::string PackageGap::describe(const std::optional<std::string>& version) const {
  std::vector<std::string> parts;
  if (!missing.empty()) parts.push_back("not installed: " + util::join(missing, ", "));
  if (!other_version.empty())
    parts.push_back("not at " + version.value_or("the wanted version") + ": " +
                    util::join(other_version, ", "));
  if (!unheld.empty() && !needs_install()) parts.push_back("not held: " + util::join(unheld, ", "));
  return util::join(parts, "; ");
}

PackageGap package_gap(const InstalledSet& installed,
                       const std::vector<packages::PackageRequest>& wanted) {
  PackageGap gap;
  for (const auto& request : wanted) {
    const auto& name = request.name;
    const auto found = installed.find(name);
    if (found == installed.end())
      gap.missing.push_back(name);
    else if (!request.accepts(found->second.version))
      gap.other_version.push_back(name + " (" + found->second.version + ")");
    if (found == installed.end() || !found->second.held) gap.unheld.push_back(name);
  }
  return gap;
}

std::vector<std::string> names_of(const std::vector<packages::PackageRequest>& wanted) {
  std::vector<std::string> names;
  for (const auto& request : wanted) names.push_back(request.name);
  return names;
}

std::vector<std::string> held_among(const InstalledSet& installed,
                                    const std::vector<std::string>& names) {
  std::vector<std::string> held;
  for (const auto& name : names)
    if (auto found = installed.find(name); found != installed.end() && found->second.held)
      held.push_back(name);
  return held;
}

nlohmann::json packages_before(const InstalledSet& installed, const std::vector<std::string>& names,
                               Family family) {
  auto undo = nlohmann::json::object();
  undo["family"] = std::string(packages::to_string(family));
  for (const auto& name : names) {
    const auto found = installed.find(name);
    nlohmann::json version = nullptr;
    if (found != installed.end()) version = found->second.version;
    undo[std::string(k_before) + name] = {{"version", version},
                                          {"held", found != installed.end() && found->second.held}};
  }
  return undo;
}

std::function<nlohmann::json(const StageContext&)> record_added_packages(const PackageSystem& system,
                                                                         InstalledSet before) {
  return [system, before = std::move(before)](const StageContext& ctx) {
    auto undo = nlohmann::json::object();
    for (const auto& [name, package] : system.installed(ctx.root, ctx.runner))
      // A repository key rpm imported counts too (as gpg-pubkey-VERSION-RELEASE): revert
      // takes it out of rpm's keyring again.
      if (!before.contains(name)) undo[std::string(k_added) + name] = package.version;
    return undo;
  };
}

std::vector<PlannedCommand> package_revert_commands(const StageContext& ctx,
                                                    const nlohmann::json& undo) {
  const auto family = packages::parse_family(undo.value("family", ""));
  if (!family) return {};
  const auto system = packages::package_system_of(ctx.root, *family, std::nullopt);  // removing fetches nothing
  system.require_programs(ctx.root);
  const auto installed = system.installed(ctx.root, ctx.runner);
  std::vector<std::string> release;
  std::vector<std::string> remove;
  for (const auto& [key, value] : undo.items()) {
    std::string name;
    bool ours = false;
    bool held_before = false;
    if (key.starts_with(k_before)) {
      name = key.substr(k_before.size());
      ours = value["version"].is_null();
      held_before = value.value("held", false);
    } else if (key.starts_with(k_added)) {
      name = key.substr(k_added.size());
      ours = true;
    } else {
      continue;
    }
    const auto found = installed.find(name);
    if (found == installed.end()) continue;
    if (found->second.held && !held_before) add_once(release, name);
    if (ours) add_once(remove, name);
  }
  std::vector<PlannedCommand> commands;
  if (!release.empty() && !system.hold_file())
    commands.push_back({system.release(release), "holds gpu-node-setup set"});
  if (!remove.empty())
    commands.push_back({system.remove(remove), "packages gpu-node-setup installed; those that "
                                               "were there before stay"});
  return commands;
}

void plan_holds_only(const StageContext& ctx, const PackageSystem& system,
                     const std::vector<std::string>& unheld, const std::string& reason, StagePlan& plan) {
  std::vector<packages::PackageRequest> support;
  for (auto& name : system.hold_support_packages(ctx.root)) support.push_back({name, std::nullopt});
  if (!support.empty()) plan.commands.push_back({system.install(support), "the holds need dnf's versionlock plugin"});
  plan.commands.push_back({system.hold(unheld), reason});
}

std::string plan_repository(const StageContext& ctx, const PackageSystem& system,
                            const packages::Repository& repository,
                            const std::optional<std::string>& proxy,
                            const std::filesystem::path& templates_dir, StagePlan& plan) {
  const auto family = system.family();
  const auto path = packages::repository_file_path(family, repository.id);
  const auto existing = ctx.root.read_if_exists(path);
  if (existing && !existing->starts_with(packages::k_repository_marker)) {
    plan.notes.push_back(path + " was not written by gpu-node-setup: it is used as it is");
    return path;
  }
  if (family != Family::apt) {
    add_edit(plan, path, existing,
             packages::render_repository_file(family, repository, "", templates_dir));
    return path;
  }
  // A keyring we wrote before, still named by the file as we would write it: no download.
  for (bool armoured : {true, false}) {
    const auto keyring = packages::keyring_path(repository.id, armoured);
    if (existing && ctx.root.exists(keyring) &&
        packages::render_repository_file(family, repository, keyring, templates_dir) == *existing)
      return path;
  }
  if (packages::is_local_key(repository.key_url)) {
    const auto key = packages::read_local_key(ctx.root, repository.key_url);
    const auto keyring = packages::keyring_path(repository.id, packages::is_armoured_key(key));
    add_edit(plan, keyring, ctx.root.read_if_exists(keyring), key);
    add_edit(plan, path, existing,
             packages::render_repository_file(family, repository, keyring, templates_dir));
    return path;
  }
  // An https key: apply downloads it, journaled like a file it wrote, so revert removes it.
  const auto keyring = packages::downloaded_keyring_path(repository.id, repository.key_url);
  const auto download = packages::key_download_command(ctx.root, repository.key_url, keyring, proxy);
  if (!download)
    throw Error("cannot download the repository key " + repository.key_url + ": /usr/lib/apt/apt-helper "
                "is not installed. Put the key in a file under --root and name it with `key = "
                "\"/PATH\"` in /etc/gpu-node-setup/config.toml; nothing was changed");
  plan.commands.push_back({*download, "the repository's signing key, for signed-by"});
  plan.files_changed_by_commands.push_back(keyring);
  add_edit(plan, path, existing,
           packages::render_repository_file(family, repository, keyring, templates_dir));
  return path;
}

}  // namespace gns::stages
