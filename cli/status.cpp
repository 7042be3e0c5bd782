// `gpu-node-setup status`: each stage applied, pending, drifted or not applicable.

#include <iostream>
#include <nlohmann/json.hpp>

#include "context.hpp"
#include "host/runner.hpp"
#include "stage_flags.hpp"
#include "stages/orchestrator.hpp"
#include "table.hpp"
#include "util/strings.hpp"

namespace gns::cli {
namespace {

struct StatusOptions {
  StageFlags stage;
  RuntimeFlags runtime;
};

void run_status(const Context& ctx, const StatusOptions& options) {
  StageCommand command(ctx, options.stage, options.runtime);
  auto statuses = stages::stage_status(command.context(), command.stages);
  auto reboot = stages::pending_reboot(command.context());
  if (ctx.json) {
    nlohmann::ordered_json document = {{"schema_version", 1}, {"stages", nlohmann::ordered_json::array()}};
    for (const auto& status : statuses)
      document["stages"].push_back({{"stage", status.stage},
                                    {"state", stages::to_string(status.inspection.state)},
                                    {"detail", status.inspection.detail}});
    document["pending_reboot"] = nullptr;
    if (reboot)
      document["pending_reboot"] = {{"stage", reboot->stage},
                                    {"reason", reboot->reason},
                                    {"deferred", reboot->deferred},
                                    {"requested_at", reboot->requested_at}};
    std::cout << document.dump(2) << "\n";
    return;
  }
  TextTable table({"STAGE", "STATE", "DETAIL"});
  for (const auto& status : statuses)
    table.add_row({status.stage, std::string(stages::to_string(status.inspection.state)),
                   status.inspection.detail});
  table.print(std::cout, "");
  if (reboot) {
    std::cout << "reboot required (since " << reboot->requested_at << "): " << reboot->stage << ": "
              << reboot->reason << "\n";
    if (!reboot->deferred.empty())
      std::cout << "after it, `gpu-node-setup apply` finishes: " << util::join(reboot->deferred, ", ") << "\n";
  }
}

}  // namespace

void register_status(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand("status", "Say for each stage whether it is applied, pending, "
                                           "drifted (changed since apply) or not applicable");
  add_stages_flag(cmd, options->stage);
  add_driver_flags(cmd, options->stage);
  add_toolkit_flags(cmd, options->stage);
  add_runtime_flags(cmd, options->runtime, false);
  cmd->footer("Examples:\n  gpu-node-setup status\n  gpu-node-setup status --json");
  cmd->callback([&ctx, options] { run_status(ctx, *options); });
}

}  // namespace gns::cli
