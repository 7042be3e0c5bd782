#include "orchestrator.hpp"

#include <algorithm>

#include "../host/host_lock.hpp"
#include "nouveau_stage.hpp"
#include "runtime_stage.hpp"

namespace gns::stages {

std::vector<std::string> all_stage_names() { return {"nouveau", "runtime"}; }

std::vector<std::unique_ptr<Stage>> select_stages(const Settings& settings,
                                                  const std::vector<std::string>& names) {
  const auto known = all_stage_names();
  for (const auto& name : names) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string list;
    for (const auto& stage : known) list += (list.empty() ? "" : ", ") + stage;
    throw UsageError("unknown stage '" + name + "' (stages: " + list + ")");
  }
  std::vector<std::unique_ptr<Stage>> stages;
  auto wanted = [&](const std::string& name) {
    return names.empty() || std::find(names.begin(), names.end(), name) != names.end();
  };
  // nouveau before the driver that must bind the GPUs in its place, then the toolkit, then
  // the runtime that needs the toolkit's binary.
  if (wanted("nouveau")) stages.push_back(std::make_unique<NouveauStage>(settings));
  if (wanted("runtime")) stages.push_back(std::make_unique<RuntimeStage>(settings.runtime));
  return stages;
}

namespace {

// Marks the runs after the first one that needs a reboot as deferred; returns that run.
const StageRun* defer_after_reboot(std::vector<StageRun>& runs) {
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].plan.reboot_reason) continue;
    for (size_t later = i + 1; later < runs.size(); ++later) runs[later].deferred = true;
    return &runs[i];
  }
  return nullptr;
}

std::vector<std::string> deferred_stages(const std::vector<StageRun>& runs) {
  std::vector<std::string> names;
  for (const auto& run : runs)
    if (run.deferred) names.push_back(run.plan.stage);
  return names;
}

void write_reboot_required(const host::HostRoot& root) {
  root.write_atomic(k_reboot_required_path, "*** System restart required ***\n", 0644);
  auto packages = root.read_if_exists(k_reboot_required_pkgs_path).value_or("");
  if (packages.find("gpu-node-setup\n") == std::string::npos)
    root.write_atomic(k_reboot_required_pkgs_path, packages + "gpu-node-setup\n", 0644);
}

}  // namespace

ApplyResult apply_stages(const StageContext& ctx, const Settings& settings,
                         const std::vector<std::unique_ptr<Stage>>& stages, DryRun dry_run) {
  ApplyResult result;
  std::optional<host::HostLock> lock;
  // Planned under the lock: another run may have just changed what there is to do.
  if (dry_run == DryRun::no) lock.emplace(ctx.root, settings.lock_timeout);
  for (const auto& stage : stages) result.runs.push_back({stage->plan(ctx), {}});
  if (const StageRun* reboot = defer_after_reboot(result.runs)) {
    result.reboot_stage = reboot->plan.stage;
    result.reboot_reason = reboot->plan.reboot_reason;
  }
  if (dry_run == DryRun::yes) return result;
  Journal journal = Journal::load(ctx.root);
  for (auto& run : result.runs)
    if (!run.deferred && !run.plan.empty()) run.outcome = apply_plan(ctx, journal, run.plan);
  if (result.reboot_stage) {
    journal.request_reboot(*result.reboot_stage, *result.reboot_reason, deferred_stages(result.runs));
    journal.save(ctx.root);
    write_reboot_required(ctx.root);
  } else if (const auto& pending = journal.pending_reboot();
             pending && std::any_of(stages.begin(), stages.end(),
                                    [&](const auto& stage) { return stage->name() == pending->stage; })) {
    journal.clear_pending_reboot();
    journal.save(ctx.root);
  }
  return result;
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

std::optional<PendingReboot> pending_reboot(const StageContext& ctx) {
  return Journal::load(ctx.root).pending_reboot();
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
