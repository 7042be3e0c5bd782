#pragma once
// The commands' use cases: plan, apply, status and revert over the chosen stages, in stage
// order (revert newest first), under the run lock, with the journal.

#include <memory>
#include <string>
#include <vector>

#include "../settings.hpp"
#include "engine.hpp"
#include "stage.hpp"

namespace gns::stages {

// Every stage in the order apply runs them: nouveau, driver, toolkit, runtime.
std::vector<std::string> all_stage_names();

// The stages named in `names` (all of them when empty), in apply order, built for
// `settings`. Throws UsageError for a name that is no stage.
std::vector<std::unique_ptr<Stage>> select_stages(const Settings& settings,
                                                  const std::vector<std::string>& names);

struct StageRun {
  StagePlan plan;
  ApplyOutcome outcome;  // zero when nothing was done (dry run, or nothing to do)
  bool deferred = false;  // left for after the reboot an earlier stage needs
};

// The runs of an apply, and the reboot it stopped for, if any.
struct ApplyResult {
  std::vector<StageRun> runs;
  // The stage whose change needs a reboot before the later stages can work, and why; the
  // runs after it are `deferred`. Also set when nothing was written, while the reboot is due.
  std::optional<std::string> reboot_stage;
  std::optional<std::string> reboot_reason;
  bool rebooting = false;  // settings.reboot: the reboot was asked of systemd
};

// The stages of `runs` left for after a reboot, in order.
std::vector<std::string> deferred_stages(const std::vector<StageRun>& runs);

// Host paths apply writes when a reboot is needed, as Debian's and Ubuntu's tools do
// (update-notifier, needrestart and unattended-upgrades read them).
inline constexpr std::string_view k_reboot_required_path = "/run/reboot-required";
inline constexpr std::string_view k_reboot_required_pkgs_path = "/run/reboot-required.pkgs";

// Plans each stage and, unless `dry_run`, carries the plans out in order under the lock,
// journaled. Nothing is written for any stage before every stage has planned, so a config
// that cannot be understood (ConfigError) stops the run with the host untouched. A stage
// whose plan has a reboot_reason is applied, and the stages after it are not: they are
// deferred, recorded in the journal with the reason, and /run/reboot-required is written; the
// next apply after the reboot takes them up. An apply that needs no reboot clears the record.
// With settings.reboot, the reboot is then asked for (`systemctl reboot`), after the journal
// and the lock are written and released.
ApplyResult apply_stages(const StageContext& ctx, const Settings& settings,
                         const std::vector<std::unique_ptr<Stage>>& stages, DryRun dry_run);

// Reverts each journaled stage, newest first; see plan_revert for `force`.
std::vector<StageRun> revert_stages(const StageContext& ctx, const Settings& settings,
                                    const std::vector<std::unique_ptr<Stage>>& stages,
                                    DryRun dry_run, Force force);

struct StageStatus {
  std::string stage;
  Inspection inspection;
};

// The reboot the last apply asked for and that has not been followed by an apply since.
std::optional<PendingReboot> pending_reboot(const StageContext& ctx);

// Inspects each stage; changes nothing and takes no lock.
std::vector<StageStatus> stage_status(const StageContext& ctx,
                                      const std::vector<std::unique_ptr<Stage>>& stages);

}  // namespace gns::stages
