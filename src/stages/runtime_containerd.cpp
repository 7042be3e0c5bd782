// The runtime stage for containerd: the runtime's tables and default_runtime_name in
// config.toml, edited in place.
#include <cctype>
#include <sstream>

#include "../config/containerd_config.hpp"
#include "../config/toml_document.hpp"
#include "../error.hpp"
#include "runtime_common.hpp"
#include "runtime_stage.hpp"

namespace gns::stages {
namespace {

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

}  // namespace

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

std::string RuntimeStage::remove_containerd_changes(const std::string& path, const std::string& current,
                                                  const nlohmann::json& record) const {
  std::optional<std::string> previous;
  if (record["previous_default"].is_string()) previous = record["previous_default"].get<std::string>();
  auto keep = record.value("runtime_added", true) ? config::KeepRuntime::no : config::KeepRuntime::yes;
  return config::remove_containerd_runtime(current, path, record["runtime_name"].get<std::string>(),
                                           previous, keep)
      .text;
}

}  // namespace gns::stages
