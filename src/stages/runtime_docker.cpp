// The runtime stage for Docker: runtimes.<name> and default-runtime in daemon.json.
#include "../config/daemon_json.hpp"
#include "../config/templates.hpp"
#include "../error.hpp"
#include "runtime_common.hpp"
#include "runtime_stage.hpp"

namespace gns::stages {
namespace {

// The JSON value of runtimes.<name> (README.md "Templates").
constexpr std::string_view k_docker_template = "docker/runtime.json";

// What revert --force needs besides undo_record's: whether the entry was added, kept or had its
// path set, and in that last case the path before (absent when it had none) and the members of
// the template that were added to it.
void record_entry(const config::DockerEntryEdit& entry, nlohmann::json& record) {
  record["runtime_entry"] = std::string(config::to_string(entry.change));
  if (entry.change != config::DockerEntryChange::path_set) return;
  if (entry.previous_path) record["previous_path"] = nlohmann::json(*entry.previous_path);
  record["members_added"] = nlohmann::json(entry.added_members);
}

// A record from before "runtime_entry" was kept is one of an entry configure added whole (it
// then replaced an entry with another path): revert --force took it out, and still does.
config::DockerEntryEdit recorded_entry(const std::string& path, const nlohmann::json& record) {
  config::DockerEntryEdit entry;
  if (!record.contains("runtime_entry")) return entry;
  const auto change =
      record["runtime_entry"].is_string()
          ? config::parse_docker_entry_change(record["runtime_entry"].get<std::string>())
          : std::nullopt;
  if (!change || !record["runtime_path"].is_string())
    throw Error("the journal's docker record is damaged: it does not say what configure did to " +
                path + "'s runtime entry. Take it out of " + path + " by hand");
  entry.change = *change;
  entry.path_written = record["runtime_path"].get<std::string>();
  if (record.contains("previous_path"))
    entry.previous_path = nlohmann::ordered_json(record["previous_path"]);
  if (record.contains("members_added") && record["members_added"].is_object())
    entry.added_members = nlohmann::ordered_json(record["members_added"]);
  return entry;
}

}  // namespace

StagePlan RuntimeStage::plan_docker(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  const std::string path = config_path(RuntimeKind::docker);
  // The template is checked before the host's file is read: a site's broken template is
  // refused at its own line even where daemon.json is broken too.
  auto entry_template = config::read_template(m_settings.templates_dir, k_docker_template);
  config::DockerRuntimeSettings wanted{
      m_settings.runtime_name, m_settings.runtime_path, m_settings.set_as_default, m_settings.cdi,
      config::render_docker_runtime_entry(entry_template.text, entry_template.path,
                                          m_settings.runtime_name, m_settings.runtime_path)};
  auto before = ctx.root.read_if_exists(path);
  auto edit = config::configure_docker_runtime(before.value_or(""), path, wanted);
  if (!edit.changed && before) return plan;
  plan.edits.push_back({path, before, edit.text, 0644});
  plan.undo["docker"] = undo_record(path, m_settings, edit.previous_default);
  record_entry(edit.entry, plan.undo["docker"]);
  add_restart(ctx, "docker", plan);
  return plan;
}

std::string RuntimeStage::remove_docker_changes(const std::string& path, const std::string& current,
                                                const nlohmann::json& record) const {
  std::optional<std::string> previous;
  if (record["previous_default"].is_string())
    previous = record["previous_default"].get<std::string>();
  return config::remove_docker_runtime(current, path, record["runtime_name"].get<std::string>(),
                                       previous, recorded_entry(path, record))
      .text;
}

}  // namespace gns::stages
