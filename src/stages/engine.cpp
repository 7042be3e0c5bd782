#include "engine.hpp"

#include <algorithm>

#include "../util/sha256.hpp"

namespace gns::stages {
namespace {

std::optional<std::string> sha_of(const std::optional<std::string>& bytes) {
  if (!bytes) return std::nullopt;
  return util::sha256_hex(*bytes);
}

void write_edit(const host::HostRoot& root, const FileEdit& edit) {
  if (edit.after)
    root.write_atomic(edit.path, *edit.after, edit.mode_if_new);
  else
    root.remove(edit.path);
}

// The service a `systemctl try-restart X` (or restart) command restarts, if it is one.
std::optional<std::string> restarted_service(const host::Command& command) {
  const auto& args = command.args;
  if (command.program == "systemctl" && args.size() == 2 &&
      (args[0] == "try-restart" || args[0] == "restart"))
    return args[1];
  return std::nullopt;
}

int run_commands(const StageContext& ctx, const StagePlan& plan, Journal* journal) {
  int count = 0;
  for (const auto& planned : plan.commands) {
    // Journaled before it runs: if the restart fails, revert still restarts the service.
    if (auto service = restarted_service(planned.command); journal && service) {
      journal->record_restart(plan.stage, *service);
      journal->save(ctx.root);
    }
    ctx.runner.run_checked(planned.command);
    ++count;
  }
  return count;
}

// The original bytes of `file`, checked against the hash the journal recorded for them.
std::string read_backup(const host::HostRoot& root, const FileRecord& file) {
  auto bytes = root.read_if_exists(*file.backup);
  if (!bytes || util::sha256_hex(*bytes) != file.sha256_before)
    throw Error("the backup of " + file.path + " (" + *file.backup + ") is " +
                (bytes ? "damaged" : "missing") + "; revert cannot restore it, so nothing was "
                "changed. Restore that file by hand, then remove it from the journal");
  return *bytes;
}

// How a journaled file stands now against what apply left.
enum class FileStanding { as_before, as_applied, changed_since };

FileStanding standing_of(const FileRecord& file, const std::optional<std::string>& now) {
  auto now_sha = sha_of(now);
  if (now_sha == file.sha256_before) return FileStanding::as_before;
  if (now_sha == file.sha256_after) return FileStanding::as_applied;
  return FileStanding::changed_since;
}

std::vector<PlannedCommand> restarts_for(const StageContext& ctx, const StageRecord& record) {
  std::vector<PlannedCommand> commands;
  if (!ctx.root.is_system_root()) return commands;
  for (const auto& service : record.restarted)
    commands.push_back(restart_command(service));
  return commands;
}

// The bytes of each file the plan's commands may change, before they run.
std::vector<std::optional<std::string>> read_files(const StageContext& ctx, const StagePlan& plan) {
  std::vector<std::optional<std::string>> bytes;
  for (const auto& path : plan.files_changed_by_commands) bytes.push_back(ctx.root.read_if_exists(path));
  return bytes;
}

// Adds what `plan` can tell only now that its commands ran (or failed) to the journal: the
// files they changed (from `before`) and the stage's undo data.
void record_after_commands(const StageContext& ctx, Journal& journal, const StagePlan& plan,
                           const std::vector<std::optional<std::string>>& before) {
  bool changed = false;
  for (size_t i = 0; i < before.size(); ++i) {
    const auto& path = plan.files_changed_by_commands[i];
    auto after = ctx.root.read_if_exists(path);
    if (after == before[i]) continue;
    journal.record_file(ctx.root, plan.stage, path, before[i], sha_of(after));
    changed = true;
  }
  if (plan.undo_after_commands) {
    if (const auto undo = plan.undo_after_commands(ctx); !undo.empty()) {
      journal.record_undo(plan.stage, undo);
      changed = true;
    }
  }
  if (changed) journal.save(ctx.root);
}

}  // namespace

ApplyOutcome apply_plan(const StageContext& ctx, Journal& journal, const StagePlan& plan) {
  ApplyOutcome outcome;
  if (!plan.undo.empty()) journal.record_undo(plan.stage, plan.undo);
  for (const auto& edit : plan.edits) {
    // Journal and backup first: a crash after this line leaves a revertible record.
    journal.record_file(ctx.root, plan.stage, edit.path, edit.before, sha_of(edit.after));
    journal.save(ctx.root);
    write_edit(ctx.root, edit);
    ++outcome.files_written;
  }
  // Every journal change was saved before the step it records, except what only the
  // commands' effect tells, which is saved even when a command fails, before its error goes on.
  const auto before = read_files(ctx, plan);
  try {
    outcome.commands_run = run_commands(ctx, plan, &journal);
  } catch (const Error&) {
    try {
      record_after_commands(ctx, journal, plan, before);
    } catch (const Error&) {
      // The command's failure is the one to report; revert still has the plan's undo data.
    }
    throw;
  }
  record_after_commands(ctx, journal, plan, before);
  return outcome;
}

StagePlan plan_revert(const StageContext& ctx, const Journal& journal, const Stage& stage,
                      Force force) {
  StagePlan plan;
  plan.stage = std::string(stage.name());
  const StageRecord* record = journal.find(plan.stage);
  if (record == nullptr) return plan;
  std::vector<std::string> changed;
  for (auto file = record->files.rbegin(); file != record->files.rend(); ++file) {
    auto now = ctx.root.read_if_exists(file->path);
    FileStanding standing = standing_of(*file, now);
    if (standing == FileStanding::as_before) continue;
    std::optional<std::string> target;
    if (file->backup) target = read_backup(ctx.root, *file);
    if (standing == FileStanding::changed_since) {
      changed.push_back(file->path);
      if (now && force == Force::yes)
        if (auto kept = stage.remove_own_changes(file->path, *now, record->undo)) target = kept;
    }
    plan.edits.push_back({file->path, now, target, 0644});
  }
  if (!changed.empty() && force == Force::no) {
    std::string list;
    for (const auto& path : changed) list += "\n  " + path;
    throw RevertRefused("these files changed after gpu-node-setup configured them; revert would "
                        "throw those changes away:" + list +
                        "\nLook at them; revert --force takes out only what gpu-node-setup added "
                        "and keeps the rest");
  }
  if (!plan.edits.empty()) plan.commands = restarts_for(ctx, *record);
  // Asked even when no file changes back: a stage's undo may be packages alone.
  auto more = stage.commands_after_revert(ctx, record->undo);
  plan.commands.insert(plan.commands.end(), more.begin(), more.end());
  return plan;
}

ApplyOutcome apply_revert(const StageContext& ctx, Journal& journal, const StagePlan& plan) {
  ApplyOutcome outcome;
  for (const auto& edit : plan.edits) {
    write_edit(ctx.root, edit);
    ++outcome.files_written;
  }
  outcome.commands_run = run_commands(ctx, plan, nullptr);
  journal.erase(plan.stage);
  journal.save(ctx.root);
  return outcome;
}

}  // namespace gns::stages
