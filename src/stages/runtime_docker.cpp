// The runtime stage for Docker: runtimes.<name> and default-runtime in daemon.json.
#include "../config/daemon_json.hpp"
#include "runtime_common.hpp"
#include "runtime_stage.hpp"

namespace gns::stages {

StagePlan RuntimeStage::plan_docker(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  const std::string path = config_path(RuntimeKind::docker);
  auto before = ctx.root.read_if_exists(path);
  config::DockerRuntimeSettings wanted{m_settings.runtime_name, m_settings.runtime_path,
                                       m_settings.set_as_default, m_settings.cdi};
  auto edit = config::configure_docker_runtime(before.value_or(""), path, wanted);
  if (!edit.changed && before) return plan;
  plan.edits.push_back({path, before, edit.text, 0644});
  plan.undo["docker"] = undo_record(path, m_settings, edit.previous_default);
  add_restart(ctx, "docker", plan);
  return plan;
}

std::string RuntimeStage::remove_docker_changes(const std::string& path, const std::string& current,
                                              const nlohmann::json& record) const {
  std::optional<std::string> previous;
  if (record["previous_default"].is_string()) previous = record["previous_default"].get<std::string>();
  return config::remove_docker_runtime(current, path, record["runtime_name"].get<std::string>(), previous)
      .text;
}

}  // namespace gns::stages
