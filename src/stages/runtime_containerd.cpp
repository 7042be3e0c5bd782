// The runtime stage for containerd: the runtime's tables and default_runtime_name edited into
// config.toml in place, or, from containerd 2.1 on (and with --drop-in), written to a drop-in of
// our own that config.toml imports. config/containerd_dropin.hpp says why the installed
// containerd's version decides, and why --drop-in is refused before 2.1.
#include <filesystem>

#include "../config/containerd_config.hpp"
#include "../config/containerd_dropin.hpp"
#include "../config/templates.hpp"
#include "../config/toml_document.hpp"
#include "../error.hpp"
#include "runtime_common.hpp"
#include "runtime_stage.hpp"

namespace gns::stages {
namespace {

// The installed containerd's version, from `containerd --version`, asked at most once and only
// when the answer matters: to choose the layout, or the version of a fresh config.
class InstalledContainerd {
 public:
  explicit InstalledContainerd(const StageContext& ctx) : m_ctx(ctx) {}

  // Nothing when it cannot be asked (not in the root, not runnable there) or names no version;
  // why_unknown() then says what happened.
  const std::optional<config::ContainerdVersion>& version() {
    if (!m_asked) ask();
    return m_version;
  }
  const std::string& why_unknown() const { return m_why; }

 private:
  void ask() {
    m_asked = true;
    const host::Command command{"containerd", {"--version"}, std::chrono::seconds(10)};
    host::CommandResult result;
    try {
      result = m_ctx.runner.run(command);
    } catch (const Error& e) {
      m_why = e.what();
      return;
    }
    if (!result.succeeded()) {
      m_why = "`containerd --version` ended with " + result.describe_end(command);
      return;
    }
    m_version = config::parse_containerd_version(result.out);
    if (!m_version) m_why = "`containerd --version` names no version: " + result.out;
  }

  const StageContext& m_ctx;
  bool m_asked = false;
  std::optional<config::ContainerdVersion> m_version;
  std::string m_why;
};

std::string describe(const config::ContainerdVersion& version) {
  return std::to_string(version.major) + "." + std::to_string(version.minor);
}

enum class Layout { in_place, drop_in };

// Why nothing is added where the default runtime already runs the NVIDIA runtime.
void note_already_default(const std::string& name, const std::string& runtime_path,
                          StagePlan& plan) {
  plan.notes.push_back("the default runtime '" + name + "' already runs " + runtime_path +
                       "; nothing added");
}

// Configured, but not what Kubernetes uses until the operator enables CRI: say so.
void note_cri_disabled(const std::string& path, StagePlan& plan) {
  plan.notes.push_back(path +
                       " disables the CRI plugin (disabled_plugins): Kubernetes cannot use "
                       "containerd here until it is enabled");
}

// Why --drop-in cannot be had here; the UsageError names what to do instead.
[[noreturn]] void refuse_drop_in(const std::string& path, const std::string& why) {
  throw UsageError("--drop-in: " + why + ". Leave out --drop-in and " + path +
                   " is edited in place");
}

// Where the runtime goes. --no-drop-in: in place. --drop-in: a drop-in, or a UsageError saying
// why containerd would not read one as meant. Neither: a drop-in where containerd merges
// imports key by key (2.1 on), unless config.toml already holds the runtime in place (that
// setup stays as it is) or cannot import one.
Layout choose_layout(const RuntimeSettings& settings, const std::string& path,
                     const std::optional<std::string>& before, InstalledContainerd& containerd,
                     const config::ContainerdRuntimeSettings& wanted) {
  if (settings.drop_in == false) return Layout::in_place;
  const bool asked = settings.drop_in.has_value();
  const std::string dropin(config::k_containerd_dropin);
  if (std::filesystem::path(path).lexically_normal() == std::filesystem::path(dropin)) {
    if (asked)
      refuse_drop_in(path, "--config names " + path + ", the drop-in itself, which " +
                               "cannot import itself; name containerd's main config");
    return Layout::in_place;
  }
  const auto facts = config::read_containerd_config_facts(before.value_or(""), path, 3, wanted);
  if (!asked && facts.has_runtime) return Layout::in_place;
  if (!facts.blank && facts.version == 1) {
    if (asked)
      refuse_drop_in(path, path +
                               " has no `version` key: a version 1 config, whose short plugin "
                               "names a drop-in of version 2 or later does not share");
    return Layout::in_place;
  }
  const auto& version = containerd.version();
  if (version && config::merges_imports_key_by_key(*version)) return Layout::drop_in;
  if (!asked) return Layout::in_place;
  if (!version)
    refuse_drop_in(path, "cannot tell which containerd is installed (" + containerd.why_unknown() +
                             "), and a drop-in is safe only from containerd 2.1 on, which "
                             "merges imported files key by key");
  refuse_drop_in(path, "containerd " + describe(*version) +
                           " replaces a plugin's whole table with an imported file's, so a "
                           "drop-in holding only the NVIDIA runtime would drop every other CRI "
                           "setting of " +
                           path +
                           ", and one holding a copy of them would "
                           "silently override every later edit of that section; containerd "
                           "merges imported files key by key from 2.1 on");
}

// containerd 2.x reads version 3 configs; 1.x (Debian 12's) version 2, as does a containerd that
// cannot be asked.
int64_t fresh_config_version(InstalledContainerd& containerd) {
  const auto& version = containerd.version();
  return version && version->major >= 2 ? 3 : 2;
}

void plan_in_place(const std::string& path, const std::optional<std::string>& before,
                   const RuntimeSettings& settings, const config::ContainerdRuntimeSettings& wanted,
                   const config::Template& runtime_template, InstalledContainerd& containerd,
                   StagePlan& plan) {
  // Blank as configure sees it: nothing but whitespace and comments.
  const bool blank = config::read_containerd_config_facts(before.value_or(""), path, 2, wanted).blank;
  const int64_t version_if_empty = blank ? fresh_config_version(containerd) : 2;
  auto edit = config::configure_containerd_runtime(before.value_or(""), path, version_if_empty,
                                                   wanted, runtime_template);
  if (edit.already_default) note_already_default(*edit.already_default, wanted.runtime_path, plan);
  if (!edit.changed && before) return;
  plan.edits.push_back({path, before, edit.text, 0644});
  plan.undo["containerd"] = undo_record(path, settings, edit.previous_default);
  plan.undo["containerd"]["runtime_added"] = edit.runtime_added;
  plan.undo["containerd"]["runc_added"] = edit.runc_added;
  if (auto imports = config::parse_toml(edit.text, path)["imports"].as_array();
      imports && !imports->empty())
    plan.notes.push_back(path +
                         " imports other files: in containerd before 2.1 an imported file "
                         "that sets anything in the CRI plugin replaces its whole table, "
                         "our runtime included; check that none does");
  if (edit.cri_disabled) note_cri_disabled(path, plan);
}

void plan_drop_in(const StageContext& ctx, const std::string& path,
                  const std::optional<std::string>& before, const RuntimeSettings& settings,
                  const config::ContainerdRuntimeSettings& wanted,
                  const config::Template& runtime_template, StagePlan& plan) {
  const std::string dropin(config::k_containerd_dropin);
  // Only containerd 2.1 or later gets here: a fresh config.toml is of its version 3.
  const auto result = config::configure_containerd_dropin(before.value_or(""), path, dropin, 3,
                                                          wanted, runtime_template);
  if (const auto& name = result.config.already_default) {
    note_already_default(*name, wanted.runtime_path, plan);
    return;
  }
  // The drop-in first: config.toml never imports a file that is not there yet.
  auto dropin_before = ctx.root.read_if_exists(dropin);
  if (dropin_before != result.text)
    plan.edits.push_back({dropin, dropin_before, result.text, 0644});
  if (result.config.changed) plan.edits.push_back({path, before, result.config.text, 0644});
  if (plan.edits.empty()) return;
  auto& record = plan.undo["containerd"];
  record = undo_record(path, settings, result.config.previous_default);
  record["runtime_added"] = true;
  record["drop_in"] = dropin;
  record["import"] = std::string(config::to_string(result.import));
  plan.notes.push_back("the " + settings.runtime_name + " runtime goes in " + dropin + ", which " +
                       path + " imports: containerd 2.1 and later merge it key by key " +
                       "(--no-drop-in edits " + path + " instead)");
  if (!result.other_imports.empty())
    plan.notes.push_back(path + " imports other files too: one that containerd reads after " +
                         dropin + " and that sets default_runtime_name or the " +
                         settings.runtime_name + " runtime overrides the drop-in");
  if (result.config.cri_disabled) note_cri_disabled(path, plan);
}

}  // namespace

StagePlan RuntimeStage::plan_containerd(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  const std::string path = config_path(RuntimeKind::containerd);
  const auto before = ctx.root.read_if_exists(path);
  // Read and checked before anything else: a site template that cannot be used stops the plan.
  const auto runtime_template =
      config::read_template(m_settings.templates_dir, config::k_containerd_runtime_template);
  const config::ContainerdRuntimeSettings wanted{m_settings.runtime_name, m_settings.runtime_path,
                                                 m_settings.set_as_default};
  InstalledContainerd containerd(ctx);
  if (choose_layout(m_settings, path, before, containerd, wanted) == Layout::drop_in)
    plan_drop_in(ctx, path, before, m_settings, wanted, runtime_template, plan);
  else
    plan_in_place(path, before, m_settings, wanted, runtime_template, containerd, plan);
  if (!plan.edits.empty()) add_restart(ctx, "containerd", plan);
  return plan;
}

std::string RuntimeStage::remove_containerd_changes(const std::string& path,
                                                    const std::string& current,
                                                    const nlohmann::json& record) const {
  if (record.contains("drop_in")) {
    // The drop-in is wholly ours and is restored, not edited; config.toml loses its import.
    const auto import = config::parse_containerd_import(record.value("import", ""));
    if (!import || !record["drop_in"].is_string())
      throw Error("the journal's containerd record is damaged: it does not say how " + path +
                  " imports the drop-in. Take that import out of " + path + " by hand");
    return config::remove_containerd_import(current, path, record["drop_in"].get<std::string>(),
                                            *import)
        .text;
  }
  std::optional<std::string> previous;
  if (record["previous_default"].is_string())
    previous = record["previous_default"].get<std::string>();
  auto keep =
      record.value("runtime_added", true) ? config::KeepRuntime::no : config::KeepRuntime::yes;
  // A record written before runc_added existed never added one.
  auto runc = record.value("runc_added", false) ? config::AddedRunc::yes : config::AddedRunc::no;
  return config::remove_containerd_runtime(current, path, record["runtime_name"].get<std::string>(),
                                           previous, keep, runc)
      .text;
}

}  // namespace gns::stages
