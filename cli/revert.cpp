// `gpu-node-setup revert`: undo what apply did, newest stage first, byte for byte.

#include <iostream>

#include "context.hpp"
#include "host/runner.hpp"
#include "render_plan.hpp"
#include "stage_flags.hpp"

namespace gns::cli {
namespace {

struct RevertOptions {
  StageFlags stage;
  RuntimeFlags runtime;
};

void run_revert(const Context& ctx, const RevertOptions& options) {
  StageCommand command(ctx, options.stage, options.runtime);
  const DryRun dry_run = options.stage.dry_run ? DryRun::yes : DryRun::no;
  stages::ApplyResult result;
  result.runs = stages::revert_stages(command.context(), command.settings, command.stages, dry_run,
                                      options.stage.force ? stages::Force::yes : stages::Force::no);
  render_runs(std::cout, result, RunKind::revert, dry_run, ctx.json);
}

}  // namespace

void register_revert(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<RevertOptions>();
  options->stage.read_site_config = false;
  auto* cmd = app.add_subcommand("revert", "Undo what apply did: every file back byte for byte "
                                           "(or removed if it was absent), newest stage first");
  add_stages_flag(cmd, options->stage);
  add_mutation_flags(cmd, options->stage);
  cmd->add_flag("--force", options->stage.force,
                "Revert files changed since apply too, taking out only what gpu-node-setup added");
  cmd->footer("Examples:\n  gpu-node-setup revert --dry-run\n  gpu-node-setup revert --stages runtime\n\n"
              "Exit status 6 when a file changed since apply and --force was not given.");
  cmd->callback([&ctx, options] { run_revert(ctx, *options); });
}

}  // namespace gns::cli
