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

// Every stage in the order apply runs them; today: runtime.
std::vector<std::string> all_stage_names();

// The stages named in `names` (all of them when empty), in apply order, built for
// `settings`. Throws UsageError for a name that is no stage.
std::vector<std::unique_ptr<Stage>> select_stages(const Settings& settings,
                                                  const std::vector<std::string>& names);

struct StageRun {
  StagePlan plan;
  ApplyOutcome outcome;  // zero when nothing was done (dry run, or nothing to do)
};

// Plans each stage and, unless `dry_run`, carries the plan out under the lock, journaled.
// Nothing is written for any stage before every stage has planned, so a config that cannot
// be understood (ConfigError) stops the run with the host untouched.
std::vector<StageRun> apply_stages(const StageContext& ctx, const Settings& settings,
                                   const std::vector<std::unique_ptr<Stage>>& stages,
                                   DryRun dry_run);

// Reverts each journaled stage, newest first; see plan_revert for `force`.
std::vector<StageRun> revert_stages(const StageContext& ctx, const Settings& settings,
                                    const std::vector<std::unique_ptr<Stage>>& stages,
                                    DryRun dry_run, Force force);

struct StageStatus {
  std::string stage;
  Inspection inspection;
};

// Inspects each stage; changes nothing and takes no lock.
std::vector<StageStatus> stage_status(const StageContext& ctx,
                                      const std::vector<std::unique_ptr<Stage>>& stages);

}  // namespace gns::stages
