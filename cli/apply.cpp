// `gpu-node-setup apply`: run every stage that is not yet applied; `plan`: say what apply
// would do. Both take the runtime stage's flags; the runtime is the installed one unless
// --runtime names it.

#include <iostream>

#include "context.hpp"
#include "host/runner.hpp"
#include "render_plan.hpp"
#include "stage_flags.hpp"

namespace gns::cli {
namespace {

struct ApplyOptions {
  StageFlags stage;
  RuntimeFlags runtime;
};

void run_apply(Context& ctx, const ApplyOptions& options, RunKind kind) {
  DryRun dry_run = kind == RunKind::plan ? DryRun::yes : DryRun::no;
  StageCommand command(ctx, options.stage, options.runtime);
  if (options.stage.dry_run) dry_run = DryRun::yes;
  auto result = stages::apply_stages(command.context(), command.settings, command.stages, dry_run);
  render_runs(std::cout, result, kind, dry_run, ctx.json);
  if (result.reboot_stage && dry_run == DryRun::no) ctx.exit_code = ExitCode::reboot_required;
}

}  // namespace

void register_plan(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<ApplyOptions>();
  auto* cmd = app.add_subcommand("plan", "Show what apply would change: a diff of every file and "
                                         "the commands; changes nothing");
  add_stages_flag(cmd, options->stage);
  add_driver_flags(cmd, options->stage);
  add_toolkit_flags(cmd, options->stage);
  add_runtime_flags(cmd, options->runtime, false);
  cmd->footer("Examples:\n  gpu-node-setup plan\n  gpu-node-setup plan --runtime=containerd --json");
  cmd->callback([&ctx, options] { run_apply(ctx, *options, RunKind::plan); });
}

void register_apply(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<ApplyOptions>();
  auto* cmd = app.add_subcommand("apply", "Run every stage that is not yet applied; a second run "
                                          "changes nothing and restarts nothing");
  add_stages_flag(cmd, options->stage);
  add_mutation_flags(cmd, options->stage);
  cmd->add_flag("--reboot", options->stage.reboot,
                "When a reboot is needed to go on (exit 7), reboot the host (systemctl reboot) "
                "once everything before it is done and journaled; run apply again after it");
  add_driver_flags(cmd, options->stage);
  add_toolkit_flags(cmd, options->stage);
  add_runtime_flags(cmd, options->runtime, false);
  cmd->footer("Examples:\n  gpu-node-setup apply\n  gpu-node-setup apply --dry-run\n"
              "  gpu-node-setup apply --stages runtime --runtime=docker --no-restart");
  cmd->callback([&ctx, options] { run_apply(ctx, *options, RunKind::apply); });
}

void register_configure(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<ApplyOptions>();
  options->stage.stages = {"runtime"};
  auto* cmd = app.add_subcommand(
      "configure", "Add the NVIDIA runtime to one container runtime and make it the default "
                   "(the runtime stage on its own)");
  add_mutation_flags(cmd, options->stage);
  add_runtime_flags(cmd, options->runtime, true);
  cmd->footer("Examples:\n  gpu-node-setup configure --runtime=containerd\n"
              "  gpu-node-setup configure --runtime=docker --dry-run\n"
              "  gpu-node-setup --root /host configure --runtime=containerd --no-restart");
  cmd->callback([&ctx, options] { run_apply(ctx, *options, RunKind::apply); });
}

}  // namespace gns::cli
