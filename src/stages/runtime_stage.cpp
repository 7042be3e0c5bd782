#include "runtime_stage.hpp"

#include <cctype>
#include <sstream>

#include "../config/containerd_config.hpp"
#include "../config/crio_dropin.hpp"
#include "../config/daemon_json.hpp"
#include "../config/templates.hpp"
#include "../config/toml_document.hpp"
#include "../error.hpp"
#include "../host/container_runtimes.hpp"
#include "journal.hpp"

namespace gns::stages {
namespace {

constexpr std::string_view k_crio_config = "/etc/crio/crio.conf";
constexpr std::string_view k_crio_dropins = "/etc/crio/crio.conf.d";
constexpr std::string_view k_crio_template = "crio/99-nvidia.conf";

bool is_installed(const std::vector<host::ContainerRuntime>& runtimes, std::string_view name) {
  for (const auto& runtime : runtimes)
    if (runtime.name == name) return true;
  return false;
}

// The major version of the installed containerd, asked only when a fresh config must be
// written and its version chosen. Its output is "containerd github.com/containerd/containerd
// v1.7.24 <commit>" upstream, "... 1.6.20~ds1 1.6.20~ds1-1+deb12u3" from Debian. When it
// cannot be asked (not in the root, not runnable there), 1: Debian 12 ships 1.6.
int containerd_major_version(const StageContext& ctx) {
  host::CommandResult result;
  try {
    result = ctx.runner.run(host::Command{"containerd", {"--version"}, std::chrono::seconds(10)});
  } catch (const Error&) {
    return 1;
  }
  std::istringstream words(result.out);
  std::string word;
  for (int i = 0; i < 3 && words >> word; ++i) {}
  if (!result.succeeded() || word.empty()) return 1;
  if (word.front() == 'v') word.erase(0, 1);
  return std::isdigit(static_cast<unsigned char>(word.front())) ? std::stoi(word) : 1;
}

// What revert --force needs to take our runtime out of `path` again, and status to judge it.
nlohmann::json undo_record(const std::string& path, const RuntimeSettings& settings,
                           const std::optional<std::string>& previous_default) {
  return {{"config", path},
          {"runtime_name", settings.runtime_name},
          {"runtime_path", settings.runtime_path},
          {"previous_default", previous_default ? nlohmann::json(*previous_default) : nlohmann::json(nullptr)}};
}

// Appends every file under `dir` to `paths` in the order CRI-O reads them (Go's
// filepath.Walk: names in lexical order, a directory entered where it sorts).
void list_crio_dropins(const host::HostRoot& root, const std::string& dir,
                       std::vector<std::string>& paths) {
  for (const auto& entry : root.list(dir)) {
    std::string path = dir + "/" + entry;
    if (root.is_directory(path)) list_crio_dropins(root, path, paths);
    else paths.push_back(path);
  }
}

// The user's CRI-O configuration: crio.conf, then every drop-in but ours, layered as CRI-O
// layers them.
struct CrioUserConfig {
  toml::table merged;
  std::vector<std::pair<std::string, toml::table>> after_ours;  // drop-ins read after ours
};

// Throws ConfigError for a file that is not TOML.
CrioUserConfig read_crio_config(const host::HostRoot& root, const std::string& ours) {
  std::vector<std::string> paths{std::string(k_crio_config)};
  list_crio_dropins(root, std::string(k_crio_dropins), paths);
  CrioUserConfig user;
  for (const auto& path : paths) {
    if (path == ours) continue;
    auto text = root.read_if_exists(path);
    if (!text) continue;
    toml::table table = config::parse_toml(*text, path);
    config::merge_crio_config(user.merged, table);
    if (path != k_crio_config && path > ours) user.after_ours.emplace_back(path, std::move(table));
  }
  return user;
}

// A drop-in that CRI-O reads after ours wins where both set a key: say so where it matters.
void note_later_overrides(const CrioUserConfig& user, const std::string& ours,
                          const RuntimeSettings& settings, StagePlan& plan) {
  for (const auto& [path, table] : user.after_ours) {
    auto runtime = table["crio"]["runtime"];
    auto default_runtime = runtime["default_runtime"].value<std::string>();
    if (settings.set_as_default && default_runtime && *default_runtime != settings.runtime_name)
      plan.notes.push_back(path + " is read after " + ours + " and sets default_runtime = " +
                           *default_runtime + ": CRI-O uses that, not " + settings.runtime_name);
    if (runtime["runtimes"][settings.runtime_name])
      plan.notes.push_back(path + " is read after " + ours + " and also defines runtime " +
                           settings.runtime_name + ": its keys override ours");
  }
}

}  // namespace

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
  if (is_installed(runtimes, "k3s")) return RuntimeKind::k3s;
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
    for (auto kind : {RuntimeKind::docker, RuntimeKind::containerd, RuntimeKind::crio}) {
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
  if (kind == RuntimeKind::k3s)
    return {StageState::not_applicable, "k3s is installed; configuring k3s is not built yet"};
  return judge(ctx, kind, applied != nullptr);
}

Inspection RuntimeStage::judge(const StageContext& ctx, RuntimeKind kind, bool applied_before) const {
  RuntimeSettings quiet = m_settings;
  quiet.runtime = kind;
  quiet.restart = false;  // status runs nothing, not even `systemctl is-active`
  StagePlan wanted = RuntimeStage(quiet).plan(ctx);
  std::string what = std::string(to_string(kind)) + " (" + config_path(kind) + ")";
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
  throw Error("configuring k3s is not built yet; docker, containerd and crio are");
}

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

StagePlan RuntimeStage::plan_containerd(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  const std::string path = config_path(RuntimeKind::containerd);
  auto before = ctx.root.read_if_exists(path);
  bool blank = !before || before->find_first_not_of(" \t\r\n") == std::string::npos;
  // containerd 2.x reads version 3 configs; 1.x (Debian 12's) version 2.
  int64_t version_if_empty = blank && containerd_major_version(ctx) >= 2 ? 3 : 2;
  config::ContainerdRuntimeSettings wanted{m_settings.runtime_name, m_settings.runtime_path,
                                           m_settings.set_as_default};
  auto edit = config::configure_containerd_runtime(before.value_or(""), path, version_if_empty, wanted);
  if (!edit.changed && before) return plan;
  plan.edits.push_back({path, before, edit.text, 0644});
  plan.undo["containerd"] = undo_record(path, m_settings, edit.previous_default);
  plan.undo["containerd"]["runtime_added"] = edit.runtime_added;
  if (auto imports = config::parse_toml(edit.text, path)["imports"].as_array(); imports && !imports->empty())
    plan.notes.push_back(path + " imports other files: in containerd before 2.1 an imported file "
                                "that sets anything in the CRI plugin replaces its whole table, "
                                "our runtime included; check that none does");
  if (edit.cri_disabled)
    plan.notes.push_back(path + " disables the CRI plugin (disabled_plugins): Kubernetes cannot "
                                "use containerd here until it is enabled");
  add_restart(ctx, "containerd", plan);
  return plan;
}

StagePlan RuntimeStage::plan_crio(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  const std::string path = config_path(RuntimeKind::crio);
  if (ctx.root.resolve(path) == ctx.root.resolve(k_crio_config))
    throw UsageError("--config for crio names the drop-in gpu-node-setup writes; " +
                     std::string(k_crio_config) + " is the user's and is never rewritten");
  CrioUserConfig user = read_crio_config(ctx.root, path);
  auto base = config::crio_base_runtime(user.merged, m_settings.runtime_name);
  config::CrioDropin dropin{m_settings.runtime_name, m_settings.runtime_path,
                            m_settings.set_as_default, base ? base->options : toml::table{}};
  const std::string template_path = (config::templates_dir() / k_crio_template).string();
  std::string text =
      config::render_crio_dropin(config::read_template(k_crio_template), template_path, dropin);
  // The file is wholly ours: the exact bytes mean applied, any others drift to rewrite.
  auto before = ctx.root.read_if_exists(path);
  if (before == text) return plan;
  plan.edits.push_back({path, before, text, 0644});
  plan.undo["crio"] =
      undo_record(path, m_settings, config::crio_default_runtime(user.merged));
  note_later_overrides(user, path, m_settings, plan);
  add_restart(ctx, "crio", plan);
  return plan;
}

void RuntimeStage::add_restart(const StageContext& ctx, const std::string& service,
                               StagePlan& plan) const {
  if (!m_settings.restart) {
    plan.notes.push_back(service + " was not restarted (--no-restart): the change takes effect when it next starts");
    return;
  }
  if (!ctx.root.is_system_root()) {
    plan.notes.push_back("--root is not /: the change takes effect when " + service + " next starts there");
    return;
  }
  host::CommandResult active;
  try {
    active = ctx.runner.run(host::Command{"systemctl", {"is-active", "--quiet", service}, std::chrono::seconds(10)});
  } catch (const Error& e) {  // no systemd here (a container, a chroot): say so, do not fail
    plan.notes.push_back("cannot ask systemd about " + service + " (" + e.what() +
                         "): restart it yourself for the change to take effect");
    return;
  }
  if (!active.succeeded()) {
    plan.notes.push_back(service + " is not running: the change takes effect when it starts");
    return;
  }
  plan.commands.push_back(restart_command(service));
}

std::optional<std::string> RuntimeStage::remove_own_changes(const std::string& path,
                                                            const std::string& current,
                                                            const nlohmann::json& undo) const {
  // CRI-O's drop-in is wholly ours: nothing of anyone else's to keep, so revert --force
  // restores it as it was (absent, as a rule).
  for (const char* runtime : {"docker", "containerd"}) {
    if (!undo.contains(runtime) || undo[runtime].value("config", "") != path) continue;
    const auto& record = undo[runtime];
    std::optional<std::string> previous;
    if (record["previous_default"].is_string()) previous = record["previous_default"].get<std::string>();
    const auto name_added = record["runtime_name"].get<std::string>();
    if (std::string_view(runtime) == "docker")
      return config::remove_docker_runtime(current, path, name_added, previous).text;
    auto keep = record.value("runtime_added", true) ? config::KeepRuntime::no : config::KeepRuntime::yes;
    return config::remove_containerd_runtime(current, path, name_added, previous, keep).text;
  }
  return std::nullopt;
}

}  // namespace gns::stages
