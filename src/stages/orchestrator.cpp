#include "orchestrator.hpp"

#include <algorithm>

#include "../host/host_lock.hpp"
#include "../util/strings.hpp"
#include "driver_stage.hpp"
#include "nouveau_stage.hpp"
#include "runtime_stage.hpp"
#include "toolkit_stage.hpp"

namespace gns::stages {

std::vector<std::string> all_stage_names() { return {"nouveau", "driver", "toolkit", "runtime"}; }

std::vector<std::unique_ptr<Stage>> select_stages(const Settings& settings,
                                                  const std::vector<std::string>& names) {
  const auto known = all_stage_names();
  for (const auto& name : names) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    throw UsageError("unknown stage '" + name + "' (stages: " + util::join(known, ", ") + ")");
  }
  std::vector<std::unique_ptr<Stage>> stages;
  auto wanted = [&](const std::string& name) {
    return names.empty() || std::find(names.begin(), names.end(), name) != names.end();
  };
  // nouveau before the driver that must bind the GPUs in its place, then the toolkit, then
  // the runtime that needs the toolkit's binary.
  if (wanted("nouveau")) stages.push_back(std::make_unique<NouveauStage>(settings));
  if (wanted("driver")) stages.push_back(std::make_unique<DriverStage>(settings));
  if (wanted("toolkit")) stages.push_back(std::make_unique<ToolkitStage>(settings));
  if (wanted("runtime")) stages.push_back(std::make_unique<RuntimeStage>(settings.runtime));
  return stages;
}

namespace {

constexpr std::string_view k_boot_id_path = "/proc/sys/kernel/random/boot_id";

// This boot's id, to tell a reboot since a request; nullopt where /proc is not under the root.
std::optional<std::string> current_boot_id(const host::HostRoot& root) {
  auto text = root.read_if_exists(k_boot_id_path);
  if (!text || text->empty()) return std::nullopt;
  return text->substr(0, text->find_last_not_of(" \n") + 1);
}

// Plans the stages in order up to the first that needs a reboot; those after it are deferred
// without being planned, so nothing they would need (a runtime not installed yet) stops the
// stage that must go first.
std::vector<StageRun> plan_until_reboot(const StageContext& ctx,
                                        const std::vector<std::unique_ptr<Stage>>& stages) {
  std::vector<StageRun> runs;
  bool deferring = false;
  for (const auto& stage : stages) {
    StageRun run;
    if (deferring) {
      run.plan.stage = std::string(stage->name());
      run.deferred = true;
    } else {
      run.plan = stage->plan(ctx);
      deferring = run.plan.reboot_reason.has_value();
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace

std::vector<std::string> deferred_stages(const std::vector<StageRun>& runs) {
  std::vector<std::string> names;
  for (const auto& run : runs)
    if (run.deferred) names.push_back(run.plan.stage);
  return names;
}

namespace {

std::vector<std::string> stages_where(const std::vector<StageRun>& runs, bool deferred) {
  std::vector<std::string> names;
  for (const auto& run : runs)
    if (run.deferred == deferred) names.push_back(run.plan.stage);
  return names;
}

void write_if_different(const host::HostRoot& root, std::string_view path, const std::string& text) {
  if (root.read_if_exists(path) != text) root.write_atomic(path, text, 0644);
}

void write_reboot_required(const host::HostRoot& root) {
  write_if_different(root, k_reboot_required_path, "*** System restart required ***\n");
  auto packages = root.read_if_exists(k_reboot_required_pkgs_path).value_or("");
  if (packages.find("gpu-node-setup\n") == std::string::npos)
    write_if_different(root, k_reboot_required_pkgs_path, packages + "gpu-node-setup\n");
}

// A stage that asked for a reboot and, after one, asks again: rebooting once more will not
// help, and a boot script that reboots on exit 7 would loop. Stop with what to look at.
void refuse_reboot_loop(const Journal& journal, const StageRun& run,
                        const std::optional<std::string>& boot_id) {
  const auto& pending = journal.pending_reboot();
  if (!pending || pending->stage != run.plan.stage || !pending->boot_id || !boot_id ||
      *pending->boot_id == *boot_id)
    return;
  throw Error(run.plan.stage + " still needs a reboot after the one asked for at " +
              pending->requested_at + ": " + *run.plan.reboot_reason +
              ". Rebooting again will not help: something brings it back at boot (for nouveau: "
              "an initramfs that was not rebuilt, a module loaded by hand or by another "
              "service). Fix that, then run apply again");
}

bool is_selected(const std::vector<std::unique_ptr<Stage>>& stages, std::string_view name) {
  return std::any_of(stages.begin(), stages.end(),
                     [&](const auto& stage) { return stage->name() == name; });
}

// Records the reboot this apply needs, or forgets one it no longer needs; writes only what
// changes, so an apply that has nothing to do writes nothing.
void record_reboot(const StageContext& ctx, Journal& journal, const ApplyResult& result,
                   const std::vector<std::unique_ptr<Stage>>& stages,
                   const std::optional<std::string>& boot_id) {
  const auto before = journal.pending_reboot();
  if (result.reboot_stage) {
    journal.request_reboot(*result.reboot_stage, *result.reboot_reason,
                           stages_where(result.runs, true), boot_id);
    write_reboot_required(ctx.root);
  } else if (before && is_selected(stages, before->stage)) {
    journal.clear_pending_reboot();
  } else {
    journal.undefer(stages_where(result.runs, false));  // applied without the reboot stage
  }
  if (journal.pending_reboot() != before) journal.save(ctx.root);
}

// apply_plan, with a failed command's message saying where that leaves the host: the run is
// journaled up to the failure, so it can be finished or undone.
ApplyOutcome apply_stage(const StageContext& ctx, Journal& journal, const StagePlan& plan) {
  try {
    return apply_plan(ctx, journal, plan);
  } catch (const CommandFailed& failed) {
    throw CommandFailed(failed, "\n" + plan.stage + " stopped there. What it changed before is "
                        "journaled: run `gpu-node-setup apply` again once the cause is fixed, or "
                        "`gpu-node-setup revert --stages " + plan.stage + "` to undo it");
  }
}

}  // namespace

ApplyResult apply_stages(const StageContext& ctx, const Settings& settings,
                         const std::vector<std::unique_ptr<Stage>>& stages, DryRun dry_run) {
  ApplyResult result;
  std::optional<host::HostLock> lock;
  // Planned under the lock: another run may have just changed what there is to do.
  if (dry_run == DryRun::no) lock.emplace(ctx.root, settings.lock_timeout);
  Journal journal = Journal::load(ctx.root);
  const auto boot_id = current_boot_id(ctx.root);
  result.runs = plan_until_reboot(ctx, stages);
  for (const auto& run : result.runs) {
    if (!run.plan.reboot_reason) continue;
    refuse_reboot_loop(journal, run, boot_id);
    result.reboot_stage = run.plan.stage;
    result.reboot_reason = run.plan.reboot_reason;
  }
  if (dry_run == DryRun::yes) return result;
  for (auto& run : result.runs)
    if (!run.deferred && !run.plan.empty()) run.outcome = apply_stage(ctx, journal, run.plan);
  record_reboot(ctx, journal, result, stages, boot_id);
  lock.reset();  // the next boot's apply must not find it held
  if (settings.reboot && result.reboot_stage) {
    ctx.runner.run_checked({"systemctl", {"reboot"}, std::chrono::minutes(1)});
    result.rebooting = true;
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
  for (auto& run : runs) {
    if (!journal.find(run.plan.stage)) continue;
    run.outcome = apply_revert(ctx, journal, run.plan);
    // A reboot asked for by a stage that is undone now is no longer needed.
    if (const auto& pending = journal.pending_reboot(); pending && pending->stage == run.plan.stage) {
      journal.clear_pending_reboot();
      journal.save(ctx.root);
    }
  }
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
