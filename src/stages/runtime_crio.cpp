// The runtime stage for CRI-O: a drop-in of our own in crio.conf.d; the user's files are
// only read.
#include "../config/crio_dropin.hpp"
#include "../config/templates.hpp"
#include "../config/toml_document.hpp"
#include "../error.hpp"
#include "runtime_common.hpp"
#include "runtime_stage.hpp"

namespace gns::stages {
namespace {

constexpr std::string_view k_crio_config = "/etc/crio/crio.conf";
constexpr std::string_view k_crio_dropins = "/etc/crio/crio.conf.d";
constexpr std::string_view k_crio_template = "crio/99-nvidia.conf";

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
// layers them. A file at our path that we did not write is the user's and is read with the rest.
struct CrioUserConfig {
  toml::table merged;
  std::vector<std::pair<std::string, toml::table>> files;       // each file read, in order
  std::vector<std::pair<std::string, toml::table>> after_ours;  // drop-ins read after ours
};

// Throws ConfigError for a file that is not TOML.
CrioUserConfig read_crio_config(const host::HostRoot& root, const std::string& ours) {
  std::vector<std::string> paths{std::string(k_crio_config)};
  list_crio_dropins(root, std::string(k_crio_dropins), paths);
  CrioUserConfig user;
  for (const auto& path : paths) {
    auto text = root.read_if_exists(path);
    if (!text || (path == ours && config::is_our_crio_dropin(*text))) continue;
    toml::table table = config::parse_toml(*text, path);
    config::merge_crio_config(user.merged, table);
    if (path != k_crio_config && path > ours) user.after_ours.emplace_back(path, table);
    user.files.emplace_back(path, std::move(table));
  }
  return user;
}

// The files of `user` that already give runtime `settings.runtime_name` our binary and, when
// asked, make it the default, as CRI-O ends up reading them; nullopt when the merged
// configuration does not. Later files are already layered over earlier ones in `merged`.
std::optional<std::string> crio_already_configured(const CrioUserConfig& user,
                                                   const RuntimeSettings& settings) {
  auto runtime = user.merged["crio"]["runtime"];
  if (runtime["runtimes"][settings.runtime_name]["runtime_path"].value<std::string>() !=
      settings.runtime_path)
    return std::nullopt;
  if (settings.set_as_default && config::crio_default_runtime(user.merged) != settings.runtime_name)
    return std::nullopt;
  std::string path_from, default_from;  // the last file to set each: the one CRI-O uses
  for (const auto& [path, table] : user.files) {
    auto in_file = table["crio"]["runtime"];
    if (in_file["runtimes"][settings.runtime_name]["runtime_path"]) path_from = path;
    if (in_file["default_runtime"]) default_from = path;
  }
  if (!settings.set_as_default || default_from == path_from) return path_from;
  return path_from + " (and " + default_from + " for default_runtime)";
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

// A file at our drop-in's path that we did not write and that does not already do what we
// would: replacing it would lose the user's settings, so the operator decides.
[[noreturn]] void refuse_user_file(const std::string& path, const RuntimeSettings& settings) {
  throw Error(path + " exists and was not written by gpu-node-setup (it does not begin with \"" +
              std::string(config::k_crio_dropin_marker) + "\"), and CRI-O's configuration does not " +
              "already give runtime " + settings.runtime_name + " the path " + settings.runtime_path +
              (settings.set_as_default ? " as the default" : "") +
              "; it is not overwritten. Edit or remove it, or write our drop-in under another name: " +
              "--config /etc/crio/crio.conf.d/99-zz-nvidia.conf");
}

}  // namespace

StagePlan RuntimeStage::plan_crio(const StageContext& ctx) const {
  StagePlan plan;
  plan.stage = std::string(name());
  const std::string path = config_path(RuntimeKind::crio);
  if (ctx.root.resolve(path) == ctx.root.resolve(k_crio_config))
    throw UsageError("--config for crio names the drop-in gpu-node-setup writes; " +
                     std::string(k_crio_config) + " is the user's and is never rewritten");
  CrioUserConfig user = read_crio_config(ctx.root, path);
  auto before = ctx.root.read_if_exists(path);
  if (!before || !config::is_our_crio_dropin(*before)) {
    if (auto where = crio_already_configured(user, m_settings)) {
      plan.notes.push_back(*where + " already configures runtime " + m_settings.runtime_name +
                           " (" + m_settings.runtime_path + ")" +
                           (m_settings.set_as_default ? " as CRI-O's default" : "") +
                           ": nothing for gpu-node-setup to write");
      return plan;
    }
    if (before) refuse_user_file(path, m_settings);
  }
  auto base = config::crio_base_runtime(user.merged, m_settings.runtime_name);
  config::CrioDropin dropin{m_settings.runtime_name, m_settings.runtime_path,
                            m_settings.set_as_default, base ? base->options : toml::table{}};
  auto crio_template = config::read_template(m_settings.templates_dir, k_crio_template);
  std::string text = config::render_crio_dropin(crio_template.text, crio_template.path, dropin);
  // A drop-in of ours is wholly ours: the exact bytes mean applied, any others (other
  // settings, an edit) are rewritten.
  if (before == text) return plan;
  plan.edits.push_back({path, before, text, 0644});
  plan.undo["crio"] =
      undo_record(path, m_settings, config::crio_default_runtime(user.merged));
  note_later_overrides(user, path, m_settings, plan);
  add_restart(ctx, "crio", plan);
  return plan;
}

}  // namespace gns::stages
