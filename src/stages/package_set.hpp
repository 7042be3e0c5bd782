#pragma once
// What the stages that install packages (toolkit, driver) share: how a set of wanted packages
// stands on the host, the repository they come from, the undo data that lets revert remove
// exactly what apply added and release exactly the holds it set, and those revert commands.
//
// Undo keys (flat, so that the journal keeps the first apply's value of each):
//   "family": "apt" | "dnf" | "zypper"
//   "before:NAME": {"version": null | "1.2-3", "held": bool}  each wanted package before apply
//   "added:NAME": "VERSION"   each package an apply installed that was not there (dependencies too)

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "../packages/package_system.hpp"
#include "../packages/repository.hpp"
#include "stage.hpp"

namespace gns::stages {

// How the installed packages stand against the wanted ones.
struct PackageGap {
  std::vector<std::string> missing;        // not installed
  std::vector<std::string> other_version;  // "NAME (VERSION)": installed, not at the wanted version
  std::vector<std::string> unheld;         // not held (installed or not)

  bool needs_install() const { return !missing.empty() || !other_version.empty(); }
  bool none() const { return !needs_install() && unheld.empty(); }
  // "not installed: a, b; not at 1.2-3: c (1.1-1)"; "not held: ..." when that is all.
  std::string describe(const std::optional<std::string>& version) const;
};

PackageGap package_gap(const packages::InstalledSet& installed,
                       const std::vector<packages::PackageRequest>& wanted);

// The names of `wanted`, in order.
std::vector<std::string> names_of(const std::vector<packages::PackageRequest>& wanted);

// Those of `names` that are installed and held.
std::vector<std::string> held_among(const packages::InstalledSet& installed,
                                    const std::vector<std::string>& names);

// The undo data of `names` as they stand before apply, and the family that installs them.
nlohmann::json packages_before(const packages::InstalledSet& installed,
                               const std::vector<std::string>& names, packages::Family family);

// For StagePlan::undo_after_commands: every package installed after the commands that was not
// in `before`, as "added:NAME".
std::function<nlohmann::json(const StageContext&)> record_added_packages(
    const packages::PackageSystem& system, packages::InstalledSet before);

// What revert runs for the undo data above: the holds apply set released (apt; where holds
// live in a file the engine has restored it byte for byte), then the packages apply added
// removed, and nothing that was installed before.
std::vector<PlannedCommand> package_revert_commands(const StageContext& ctx,
                                                    const nlohmann::json& undo);

// For packages installed as wanted but not all held: the commands that hold `unheld` (for
// `reason`), installing first what the holds need (dnf's versionlock plugin).
void plan_holds_only(const StageContext& ctx, const packages::PackageSystem& system,
                     const std::vector<std::string>& unheld, const std::string& reason, StagePlan& plan);

// Adds `repository`'s file (and for apt its keyring, fetched) to `plan` unless it is configured
// as wanted already; a file of someone else's at that path is used as it is (a note says so).
// Returns the file's host path.
std::string plan_repository(const StageContext& ctx, const packages::PackageSystem& system,
                            const packages::Repository& repository,
                            const std::optional<std::string>& proxy,
                            const std::filesystem::path& templates_dir, StagePlan& plan);

}  // namespace gns::stages
