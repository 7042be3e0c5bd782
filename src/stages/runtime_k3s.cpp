// The runtime stage for k3s and RKE2. k3s writes containerd's config.toml afresh at every start,
// so that file is never ours: the default runtime is chosen by `default-runtime` in k3s's own
// config.yaml, and the runtime itself is one k3s adds on its own when it finds
// nvidia-container-runtime, or, where the generated containerd config imports a drop-in
// directory, one we put in a drop-in there.
#include <array>
#include <filesystem>

#include "../config/containerd_config.hpp"
#include "../config/k3s_config.hpp"
#include "../config/templates.hpp"
#include "../config/toml_document.hpp"
#include "../error.hpp"
#include "../host/container_runtimes.hpp"
#include "runtime_common.hpp"
#include "runtime_stage.hpp"

namespace gns::stages {
namespace {

constexpr std::string_view k_template = "k3s/config.yaml";
constexpr std::string_view k_dropin_name = "99-nvidia.toml";

// k3s, or RKE2 (built from k3s, with the same files under its own name).
struct K3sFlavor {
  std::string name;                   // "k3s" or "rke2"
  std::vector<std::string> services;  // a server runs the first unit, an agent the second
};

// RKE2 when only RKE2 is installed; k3s otherwise, also when neither is (--runtime=k3s).
K3sFlavor k3s_flavor(const host::HostRoot& root) {
  bool k3s = false, rke2 = false;
  for (const auto& runtime : host::find_container_runtimes(root)) {
    k3s = k3s || runtime.name == "k3s";
    rke2 = rke2 || runtime.name == "rke2";
  }
  if (rke2 && !k3s) return {"rke2", {"rke2-server", "rke2-agent"}};
  return {"k3s", {"k3s", "k3s-agent"}};
}

std::string containerd_dir(const K3sFlavor& flavor) {
  return "/var/lib/rancher/" + flavor.name + "/agent/etc/containerd";
}

// The containerd config k3s wrote at its last start.
struct GeneratedConfig {
  std::string path;
  int64_t version = 2;
  toml::table table;
  std::optional<std::string> dropin_dir;  // k3s's own drop-in directory, when it is imported
};

// config-v3.toml where a containerd 2 k3s left one, else config.toml; nullopt before k3s first
// started. Throws ConfigError when it is not TOML.
std::optional<GeneratedConfig> read_generated_config(const host::HostRoot& root,
                                                     const std::string& dir) {
  for (const char* name : {"/config-v3.toml", "/config.toml"}) {
    auto text = root.read_if_exists(dir + name);
    if (!text) continue;
    GeneratedConfig generated{dir + name, 2, config::parse_toml(*text, dir + name), std::nullopt};
    generated.version = generated.table["version"].value_or<int64_t>(1);
    if (auto imports = generated.table["imports"].as_array())
      for (const auto& entry : *imports) {
        std::string import = entry.value_or<std::string>("");
        if (!import.empty() && import.front() != '/')
          import = dir + "/" + import;  // as containerd resolves it
        for (const char* dropins : {"/config.toml.d", "/config-v3.toml.d"})
          if (import == dir + dropins + "/*.toml") generated.dropin_dir = dir + dropins;
      }
    return generated;
  }
  return std::nullopt;
}

// The CRI runtimes table of the generated config's schema version.
toml::node_view<const toml::node> cri_runtimes(const GeneratedConfig& generated) {
  const char* plugin = generated.version >= 3   ? "io.containerd.cri.v1.runtime"
                       : generated.version == 2 ? "io.containerd.grpc.v1.cri"
                                                : "cri";
  return generated.table["plugins"][plugin]["containerd"]["runtimes"];
}

std::optional<std::string> generated_binary(const GeneratedConfig& generated,
                                            const std::string& name) {
  return cri_runtimes(generated)[name]["options"]["BinaryName"].value<std::string>();
}

// Our drop-in: the runtime alone, in the generated config's schema, with the keys of the
// site's containerd runtime template (the default is config.yaml's to set, so that a
// config.yaml.d file that sets another one still wins). It carries k3s's runc with its
// SystemdCgroup, which k3s sets to the kubelet's cgroup driver and every runc-based runtime
// must follow: ours copies it, and a template that sets another value is refused.
std::string render_dropin(const GeneratedConfig& generated, const K3sFlavor& flavor,
                          const RuntimeSettings& settings, const std::string& path) {
  std::string seed = "# Written by gpu-node-setup: the NVIDIA runtime for " + flavor.name +
                     "'s containerd. `gpu-node-setup revert` removes it.\nversion = " +
                     std::to_string(generated.version) + "\n";
  // k3s's runc, as far as ours must follow it: the runtime we add copies its options from the
  // runc it finds in the file (configure_containerd_runtime's rule), so SystemdCgroup carries
  // over however the template renders, and an import that replaces the CRI table keeps runc.
  auto systemd_cgroup = cri_runtimes(generated)["runc"]["options"]["SystemdCgroup"].value<bool>();
  if (systemd_cgroup) {
    const std::string runc = std::string("[plugins.\"") +
                             (generated.version >= 3 ? "io.containerd.cri.v1.runtime"
                                                     : "io.containerd.grpc.v1.cri") +
                             "\".containerd.runtimes.runc";
    seed += "\n" + runc + "]\n  runtime_type = \"io.containerd.runc.v2\"\n\n" + runc +
            ".options]\n  SystemdCgroup = " + (*systemd_cgroup ? "true" : "false") + "\n";
  }
  config::ContainerdRuntimeSettings runtime{settings.runtime_name, settings.runtime_path, false};
  auto runtime_template =
      config::read_template(settings.templates_dir, config::k_containerd_runtime_template);
  std::string text =
      config::configure_containerd_runtime(seed, path, generated.version, runtime, runtime_template)
          .text;
  GeneratedConfig written{path, generated.version, config::parse_toml(text, path), std::nullopt};
  auto copied = cri_runtimes(written)[settings.runtime_name]["options"]["SystemdCgroup"].value<bool>();
  if (systemd_cgroup && copied != systemd_cgroup)
    throw ConfigError(runtime_template.path, 0, 0,
                      "the runtime would not run with " + flavor.name + "'s SystemdCgroup = " +
                          (*systemd_cgroup ? "true" : "false") +
                          ": every runc-based runtime must follow the kubelet's cgroup driver, "
                          "so the template must not set another");
  return text;
}

// k3s adds these runtimes by itself when it finds their binary by name on its PATH at start.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> k_detected_runtimes = {{
    {"nvidia", "nvidia-container-runtime"},
    {"nvidia-experimental", "nvidia-container-runtime-experimental"},
    {"nvidia-cdi", "nvidia-container-runtime.cdi"},
}};

// Whether k3s adds the runtime to its containerd config by itself at start: a name and binary
// it knows, found by that name in the standard program directories (the PATH systemd gives
// the k3s units) at exactly the runtime's path.
bool k3s_detects_runtime(const host::HostRoot& root, const RuntimeSettings& settings) {
  const std::string binary = std::filesystem::path(settings.runtime_path).filename().string();
  for (const auto& [name, file] : k_detected_runtimes)
    if (name == settings.runtime_name && file == binary)
      return root.find_executable(binary) == settings.runtime_path;
  return false;
}

// Without a drop-in, the runtime exists only if k3s finds it: say when it will not, or may not.
// find_executable looks in the standard program directories, which is the PATH systemd gives
// the k3s units.
void note_auto_detection(const host::HostRoot& root,
                         const std::optional<GeneratedConfig>& generated, const K3sFlavor& flavor,
                         const RuntimeSettings& settings, StagePlan& plan) {
  if (generated && generated_binary(*generated, settings.runtime_name) == settings.runtime_path)
    return;
  const std::string binary = std::filesystem::path(settings.runtime_path).filename().string();
  bool detectable = false;
  for (const auto& [name, file] : k_detected_runtimes)
    detectable = detectable || (name == settings.runtime_name && file == binary);
  std::string why = generated ? generated->path + " imports no drop-in directory"
                              : flavor.name + " has not written its containerd config yet";
  if (!detectable) {
    plan.notes.push_back(flavor.name +
                         " adds a runtime by itself only as nvidia, nvidia-experimental "
                         "or nvidia-cdi, found by name on its PATH, and " +
                         why + ": runtime " + settings.runtime_name + " (" + settings.runtime_path +
                         ") must come from a config.toml.tmpl of yours, or containerd will not "
                         "know it");
    return;
  }
  auto found = root.find_executable(binary);
  if (!found)
    plan.notes.push_back(
        flavor.name + " adds runtime " + settings.runtime_name + " when it finds " + binary +
        " on its PATH at start, and none is in the standard program directories yet (" +
        settings.runtime_path + " is not there): install the NVIDIA container toolkit first");
  else if (*found != settings.runtime_path)
    plan.notes.push_back(flavor.name + " will run " + *found + ", the first " + binary +
                         " on its PATH, as runtime " + settings.runtime_name + ", not " +
                         settings.runtime_path);
  else
    plan.notes.push_back(flavor.name + " adds runtime " + settings.runtime_name + " (" + *found +
                         ") to its containerd config by itself when it starts; " + why);
}

// A template of the user's replaces k3s's own: ours stays out of it.
void note_user_templates(const host::HostRoot& root, const std::string& dir,
                         const K3sFlavor& flavor, const RuntimeSettings& settings,
                         StagePlan& plan) {
  for (const char* name : {"/config-v3.toml.tmpl", "/config.toml.tmpl"})
    if (root.exists(dir + name))
      plan.notes.push_back(
          dir + name + " replaces " + flavor.name + "'s containerd config " +
          "template and is left alone: default-runtime in config.yaml still " +
          "applies, but runtime " + settings.runtime_name + " is in containerd's " +
          "config only if that template renders it (its {{ template \"base\" . }} " +
          "or ExtraRuntimes)");
}

// k3s reads <config>.d/*.yaml and *.yml after config.yaml, in lexical order; a later scalar wins.
void note_later_defaults(const host::HostRoot& root, const std::string& path,
                         const K3sFlavor& flavor, const RuntimeSettings& settings,
                         StagePlan& plan) {
  const std::string dir = path + ".d";
  for (const auto& entry : root.list(dir)) {
    if (!entry.ends_with(".yaml") && !entry.ends_with(".yml")) continue;
    const std::string file = dir + "/" + entry;
    auto value = config::k3s_default_runtime(root.read(file), file);
    if (value && *value != settings.runtime_name)
      plan.notes.push_back(file + " is read after " + path +
                           " and sets default-runtime: " + *value + ": " + flavor.name +
                           " uses that, not " + settings.runtime_name);
  }
}

}  // namespace

std::string RuntimeStage::k3s_config_path(const host::HostRoot& root) const {
  if (m_settings.config_path) return *m_settings.config_path;
  return "/etc/rancher/" + k3s_flavor(root).name + "/config.yaml";
}

StagePlan RuntimeStage::plan_k3s(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  const K3sFlavor flavor = k3s_flavor(ctx.root);
  const std::string path = k3s_config_path(ctx.root);
  auto before = ctx.root.read_if_exists(path);
  config::K3sEdit edit{before.value_or(""), false,
                       config::k3s_default_runtime(before.value_or(""), path), ""};
  if (m_settings.set_as_default) {
    auto k3s_template = config::read_template(m_settings.templates_dir, k_template);
    auto addition =
        config::render_k3s_addition(k3s_template.text, k3s_template.path, m_settings.runtime_name);
    edit = config::set_k3s_default_runtime(before.value_or(""), path, m_settings.runtime_name,
                                           addition);
    if (edit.changed)
      plan.edits.push_back({path, before, edit.text, 0600});  // it may hold the join token
    note_later_defaults(ctx.root, path, flavor, m_settings, plan);
  }
  const std::string dir = containerd_dir(flavor);
  auto generated = read_generated_config(ctx.root, dir);
  std::optional<std::string> dropin;
  // k3s writes that import itself, for drop-ins such as ours. Still, a drop-in only where k3s
  // cannot add the runtime itself: the containerd it bundles may be older than 2.1, whose
  // imports replace the whole CRI table (k3s's sandbox image and CNI paths with it).
  const bool needs_dropin = generated && generated->dropin_dir &&
                            !k3s_detects_runtime(ctx.root, m_settings) &&
                            generated_binary(*generated, m_settings.runtime_name) != m_settings.runtime_path;
  if (generated && generated->dropin_dir) {
    dropin = *generated->dropin_dir + "/" + std::string(k_dropin_name);
    auto dropin_before = ctx.root.read_if_exists(*dropin);
    if (dropin_before || needs_dropin) {  // ours stays once written
      std::string text = render_dropin(*generated, flavor, m_settings, *dropin);
      if (dropin_before != text) plan.edits.push_back({*dropin, dropin_before, text, 0644});
    }
  }
  if (!needs_dropin) note_auto_detection(ctx.root, generated, flavor, m_settings, plan);
  note_user_templates(ctx.root, dir, flavor, m_settings, plan);
  if (plan.edits.empty()) return plan;
  plan.undo["k3s"] = undo_record(path, m_settings, edit.previous_default);
  plan.undo["k3s"]["appended"] = edit.appended;
  plan.undo["k3s"]["config_created"] = !before.has_value();
  plan.undo["k3s"]["dropin"] = dropin ? nlohmann::json(*dropin) : nlohmann::json(nullptr);
  add_restart(ctx, flavor.services, plan);
  return plan;
}

std::optional<std::string> RuntimeStage::remove_k3s_changes(const std::string& current,
                                                            const nlohmann::json& record) const {
  std::optional<std::string> previous;
  if (record["previous_default"].is_string())
    previous = record["previous_default"].get<std::string>();
  const std::string path = record["config"].get<std::string>();
  auto edit =
      config::remove_k3s_default_runtime(current, path, record["runtime_name"].get<std::string>(),
                                         previous, record.value("appended", ""));
  // Nothing of the user's left in a file we created: restore its absence.
  if (edit.text.empty() && record.value("config_created", false)) return std::nullopt;
  return edit.text;
}

}  // namespace gns::stages
