#include "render_plan.hpp"

#include <nlohmann/json.hpp>

#include "error.hpp"
#include "util/strings.hpp"
#include "util/unified_diff.hpp"

namespace gns::cli {
namespace {

using json = nlohmann::ordered_json;

std::string_view action_of(const stages::FileEdit& edit) {
  if (!edit.before) return "create";
  if (!edit.after) return "delete";
  return "modify";
}

std::string diff_of(const stages::FileEdit& edit) {
  return util::unified_diff(edit.before.value_or(""), edit.after.value_or(""),
                            edit.before ? edit.path : "/dev/null",
                            edit.after ? edit.path : "/dev/null");
}

std::string count_of(size_t count, std::string_view thing) {
  return std::to_string(count) + " " + std::string(thing) + (count == 1 ? "" : "s");
}

// "would create 1 file, modify 2 files, run 1 command" (the zero counts left out), or
// "nothing to do".
std::string summary_of(const stages::StagePlan& plan, DryRun dry_run) {
  if (plan.empty()) return "nothing to do";
  size_t create = 0, modify = 0, remove = 0;
  for (const auto& edit : plan.edits) {
    auto action = action_of(edit);
    (action == "create" ? create : action == "delete" ? remove : modify)++;
  }
  std::vector<std::string> parts;
  if (create) parts.push_back("create " + count_of(create, "file"));
  if (modify) parts.push_back("modify " + count_of(modify, "file"));
  if (remove) parts.push_back("delete " + count_of(remove, "file"));
  if (!plan.commands.empty()) parts.push_back("run " + count_of(plan.commands.size(), "command"));
  std::string text = dry_run == DryRun::yes ? "would " : "";
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + parts[i];
  return text;
}

void render_text(std::ostream& out, const stages::StageRun& run, RunKind kind, DryRun dry_run) {
  if (run.deferred) {
    out << run.plan.stage << ": deferred until after the reboot\n";
    return;
  }
  out << run.plan.stage << ": " << summary_of(run.plan, dry_run) << "\n";
  for (const auto& edit : run.plan.edits) out << diff_of(edit);
  const char* verb = dry_run == DryRun::yes ? "would run" : "ran";
  for (const auto& planned : run.plan.commands)
    out << verb << ": " << format_command_line(planned.command.argv()) << "  (" << planned.reason << ")\n";
  for (const auto& note : run.plan.notes) out << "note: " << note << "\n";
  if (dry_run == DryRun::no && !run.plan.empty())
    out << run.plan.stage << ": " << (kind == RunKind::revert ? "reverted, " : "applied, ")
        << count_of(static_cast<size_t>(run.outcome.files_written), "file") << " written, "
        << count_of(static_cast<size_t>(run.outcome.commands_run), "command") << " run\n";
}

json run_json(const stages::StageRun& run) {
  json files = json::array(), commands = json::array();
  for (const auto& edit : run.plan.edits)
    files.push_back({{"path", edit.path}, {"action", action_of(edit)}, {"diff", diff_of(edit)}});
  for (const auto& planned : run.plan.commands)
    commands.push_back({{"argv", planned.command.argv()}, {"reason", planned.reason}});
  return {{"stage", run.plan.stage},     {"deferred", run.deferred},  {"files", files},
          {"commands", commands},        {"notes", run.plan.notes},
          {"files_written", run.outcome.files_written},
          {"commands_run", run.outcome.commands_run}};
}

json reboot_json(const stages::ApplyResult& result) {
  if (!result.reboot_stage) return nullptr;
  return {{"stage", *result.reboot_stage},
          {"reason", *result.reboot_reason},
          {"deferred", stages::deferred_stages(result.runs)},
          {"rebooting", result.rebooting}};
}

void render_reboot_text(std::ostream& out, const stages::ApplyResult& result, DryRun dry_run) {
  if (!result.reboot_stage) return;
  const std::string deferred = util::join(stages::deferred_stages(result.runs), ", ");
  out << (dry_run == DryRun::yes ? "a reboot would be needed: " : "reboot required: ")
      << *result.reboot_stage << ": " << *result.reboot_reason << "\n";
  if (result.rebooting)
    out << "Rebooting now (--reboot); run `gpu-node-setup apply` again after it"
        << (deferred.empty() ? " to check" : " to finish: " + deferred) << "\n";
  else if (dry_run == DryRun::no)
    out << "Reboot this host, then run `gpu-node-setup apply` again"
        << (deferred.empty() ? " to check" : " to finish: " + deferred) << "\n";
}

}  // namespace

void render_runs(std::ostream& out, const stages::ApplyResult& result, RunKind kind,
                 DryRun dry_run, bool json_output) {
  if (json_output) {
    json document = {{"schema_version", 1},
                     {"action", kind == RunKind::plan     ? "plan"
                                : kind == RunKind::apply ? "apply"
                                                         : "revert"},
                     {"dry_run", dry_run == DryRun::yes},
                     {"stages", json::array()}};
    for (const auto& run : result.runs) document["stages"].push_back(run_json(run));
    if (kind != RunKind::revert) document["reboot_required"] = reboot_json(result);
    out << document.dump(2) << "\n";
    return;
  }
  for (const auto& run : result.runs) render_text(out, run, kind, dry_run);
  render_reboot_text(out, result, dry_run);
  if (dry_run == DryRun::yes && kind != RunKind::plan) out << "(dry run: nothing was changed)\n";
}

}  // namespace gns::cli
