#include "runtime_stage.hpp"

#include "../error.hpp"
#include "../host/container_runtimes.hpp"
#include "journal.hpp"
#include "runtime_common.hpp"

namespace gns::stages {
namespace {

bool is_installed(const std::vector<host::ContainerRuntime>& runtimes, std::string_view name) {
  for (const auto& runtime : runtimes)
    if (runtime.name == name) return true;
  return false;
}

}  // namespace

nlohmann::json undo_record(const std::string& path, const RuntimeSettings& settings,
                           const std::optional<std::string>& previous_default) {
  return {{"config", path},
          {"runtime_name", settings.runtime_name},
          {"runtime_path", settings.runtime_path},
          {"previous_default", previous_default ? nlohmann::json(*previous_default) : nlohmann::json(nullptr)}};
}

std::string_view to_string(RuntimeKind kind) {
  switch (kind) {
    case RuntimeKind::docker: return "docker";
    case RuntimeKind::containerd: return "containerd";
    case RuntimeKind::crio: return "crio";
    case RuntimeKind::k3s: break;
  }
  return "k3s";
}

std::optional<RuntimeKind> parse_runtime_kind(std::string_view name) {
  for (auto kind : {RuntimeKind::docker, RuntimeKind::containerd, RuntimeKind::crio, RuntimeKind::k3s})
    if (to_string(kind) == name) return kind;
  return std::nullopt;
}

RuntimeKind choose_runtime(const host::HostRoot& root, std::optional<RuntimeKind> wanted) {
  if (wanted) return *wanted;
  auto runtimes = host::find_container_runtimes(root);
  // RKE2 is k3s's sibling, configured the same way (runtime_k3s.cpp).
  if (is_installed(runtimes, "k3s") || is_installed(runtimes, "rke2")) return RuntimeKind::k3s;
  if (is_installed(runtimes, "crio")) return RuntimeKind::crio;
  // Docker runs on containerd too; containerd is the node's runtime only when Kubernetes
  // talks to it, which a kubelet or a config of its own shows.
  bool docker = is_installed(runtimes, "docker");
  if (is_installed(runtimes, "containerd") &&
      (!docker || root.find_executable("kubelet") || root.exists("/etc/containerd/config.toml")))
    return RuntimeKind::containerd;
  if (docker) return RuntimeKind::docker;
  throw Error("no container runtime found under " + root.root().string() +
              " (looked for docker, containerd, crio, k3s); name one with --runtime");
}

std::string RuntimeStage::config_path(RuntimeKind kind) const {
  if (m_settings.config_path) return *m_settings.config_path;
  switch (kind) {
    case RuntimeKind::docker: return "/etc/docker/daemon.json";
    case RuntimeKind::containerd: return "/etc/containerd/config.toml";
    case RuntimeKind::crio: return "/etc/crio/crio.conf.d/99-nvidia.conf";
    case RuntimeKind::k3s: break;
  }
  return "/etc/rancher/k3s/config.yaml";
}

Inspection RuntimeStage::inspect(const StageContext& ctx, const StageRecord* applied) const {
  if (applied && !m_settings.runtime) {
    for (auto kind : {RuntimeKind::docker, RuntimeKind::containerd, RuntimeKind::crio, RuntimeKind::k3s}) {
      const auto& undo = applied->undo.value(std::string(to_string(kind)), nlohmann::json());
      if (!undo.is_object()) continue;
      RuntimeSettings recorded = m_settings;
      recorded.config_path = undo.value("config", config_path(kind));
      recorded.runtime_name = undo.value("runtime_name", m_settings.runtime_name);
      recorded.runtime_path = undo.value("runtime_path", m_settings.runtime_path);
      return RuntimeStage(recorded).judge(ctx, kind, true);
    }
  }
  if (!m_settings.runtime && host::find_container_runtimes(ctx.root).empty())
    return {StageState::not_applicable, "no container runtime is installed"};
  RuntimeKind kind = choose_runtime(ctx.root, m_settings.runtime);
  return judge(ctx, kind, applied != nullptr);
}

Inspection RuntimeStage::judge(const StageContext& ctx, RuntimeKind kind, bool applied_before) const {
  RuntimeSettings quiet = m_settings;
  quiet.runtime = kind;
  quiet.restart = false;  // status restarts nothing, and asks systemd nothing
  std::string file = kind == RuntimeKind::k3s ? k3s_config_path(ctx.root) : config_path(kind);
  std::string what = std::string(to_string(kind)) + " (" + file + ")";
  StagePlan wanted;
  try {
    wanted = RuntimeStage(quiet).plan(ctx);
  } catch (const ConfigError&) {
    throw;  // a file status cannot read is an error of its own (exit 5)
  } catch (const Error& e) {  // what apply would refuse is a state to report, not a failure
    return {StageState::pending, what + ": apply would refuse: " + e.what()};
  }
  if (wanted.edits.empty()) return {StageState::applied, what + " has the " + m_settings.runtime_name + " runtime"};
  if (applied_before)
    return {StageState::drifted, what + " no longer holds what gpu-node-setup configured"};
  return {StageState::pending, what + " does not have the " + m_settings.runtime_name + " runtime yet"};
}

StagePlan RuntimeStage::plan(const StageContext& ctx) const {
  switch (choose_runtime(ctx.root, m_settings.runtime)) {
    case RuntimeKind::docker: return plan_docker(ctx);
    case RuntimeKind::containerd: return plan_containerd(ctx);
    case RuntimeKind::crio: return plan_crio(ctx);
    case RuntimeKind::k3s: break;
  }
  return plan_k3s(ctx);
}

void RuntimeStage::add_restart(const StageContext& ctx, const std::string& service,
                               StagePlan& plan) const {
  add_restart(ctx, std::vector<std::string>{service}, plan);
}

void RuntimeStage::add_restart(const StageContext& ctx, const std::vector<std::string>& services,
                               StagePlan& plan) const {
  std::string service = services.front();
  for (size_t i = 1; i < services.size(); ++i) service += " or " + services[i];
  if (!m_settings.restart) {
    plan.notes.push_back(service + " was not restarted (--no-restart): the change takes effect when it next starts");
    return;
  }
  if (!ctx.root.is_system_root()) {
    plan.notes.push_back("--root is not /: the change takes effect when " + service + " next starts there");
    return;
  }
  for (const auto& unit : services) {
    host::CommandResult active;
    try {
      active = ctx.runner.run(host::Command{"systemctl", {"is-active", "--quiet", unit}, std::chrono::seconds(10)});
    } catch (const Error& e) {  // no systemd here (a container, a chroot): say so, do not fail
      plan.notes.push_back("cannot ask systemd about " + service + " (" + e.what() +
                           "): restart it yourself for the change to take effect");
      return;
    }
    if (active.succeeded()) {
      plan.commands.push_back(restart_command(unit));
      return;
    }
  }
  plan.notes.push_back(service + " is not running: the change takes effect when it starts");
}

std::optional<std::string> RuntimeStage::remove_own_changes(const std::string& path,
                                                            const std::string& current,
                                                            const nlohmann::json& undo) const {
  // CRI-O's drop-in is wholly ours: nothing of anyone else's to keep, so revert --force
  // restores it as it was (absent, as a rule).
  for (auto kind : {RuntimeKind::docker, RuntimeKind::containerd}) {
    const auto& record = undo.value(std::string(to_string(kind)), nlohmann::json());
    if (!record.is_object() || record.value("config", "") != path) continue;
    return kind == RuntimeKind::docker ? remove_docker_changes(path, current, record)
                                       : remove_containerd_changes(path, current, record);
  }
  // k3s: config.yaml is the user's, edited; our containerd drop-in, like CRI-O's, is wholly ours.
  const auto& k3s = undo.value("k3s", nlohmann::json());
  if (k3s.is_object() && k3s.value("config", "") == path) return remove_k3s_changes(current, k3s);
  return std::nullopt;
}

}  // namespace gns::stages
