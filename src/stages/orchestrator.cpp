#include "orchestrator.hpp"

#include <algorithm>

#include "../host/host_lock.hpp"
#include "runtime_stage.hpp"

namespace gns::stages {

std::vector<std::string> all_stage_names() { return {"runtime"}; }

std::vector<std::unique_ptr<Stage>> select_stages(const Settings& settings,
                                                  const std::vector<std::string>& names) {
  const auto known = all_stage_names();
  for (const auto& name : names)
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw UsageError("unknown stage '" + name + "' (stages: runtime)");
  std::vector<std::unique_ptr<Stage>> stages;
  auto wanted = [&](const std::string& name) {
    return names.empty() || std::find(names.begin(), names.end(), name) != names.end();
  };
  // Order matters once there are more stages: nouveau, driver, toolkit, then the runtime
  // that needs the toolkit's binary.
  if (wanted("runtime")) stages.push_back(std::make_unique<RuntimeStage>(settings.runtime));
  return stages;
}

std::vector<StageRun> apply_stages(const StageContext& ctx, const Settings& settings,
                                   const std::vector<std::unique_ptr<Stage>>& stages,
                                   DryRun dry_run) {
  std::vector<StageRun> runs;
  if (dry_run == DryRun::yes) {
    for (const auto& stage : stages) runs.push_back({stage->plan(ctx), {}});
    return runs;
  }
  host::HostLock lock(ctx.root, settings.lock_timeout);
  // Planned under the lock: another run may have just changed what there is to do.
  for (const auto& stage : stages) runs.push_back({stage->plan(ctx), {}});
  Journal journal = Journal::load(ctx.root);
  for (auto& run : runs)
    if (!run.plan.empty()) run.outcome = apply_plan(ctx, journal, run.plan);
  return runs;
}

std::vector<StageRun> revert_stages(const StageContext& ctx, const Settings& settings,
                                    const std::vector<std::unique_ptr<Stage>>& stages,
                                    DryRun dry_run, Force force) {
  std::optional<host::HostLock> lock;
  if (dry_run == DryRun::no) lock.emplace(ctx.root, settings.lock_timeout);
  Journal journal = Journal::load(ctx.root);
  std::vector<StageRun> runs;
  for (auto stage = stages.rbegin(); stage != stages.rend(); ++stage)
    runs.push_back({plan_revert(ctx, journal, **stage, force), {}});
  if (dry_run == DryRun::yes) return runs;
  for (auto& run : runs)
    if (journal.find(run.plan.stage)) run.outcome = apply_revert(ctx, journal, run.plan);
  return runs;
}

std::vector<StageStatus> stage_status(const StageContext& ctx,
                                      const std::vector<std::unique_ptr<Stage>>& stages) {
  Journal journal = Journal::load(ctx.root);
  std::vector<StageStatus> statuses;
  for (const auto& stage : stages)
    statuses.push_back({std::string(stage->name()),
                        stage->inspect(ctx, journal.find(stage->name()))});
  return statuses;
}

}  // namespace gns::stages
