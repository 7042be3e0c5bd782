#include "containerd_dropin.hpp"

#include <charconv>
#include <filesystem>
#include <sstream>

#include "../error.hpp"
#include "containerd_imports.hpp"
#include "containerd_runtime.hpp"
#include "containerd_text.hpp"
#include "containerd_toml.hpp"

namespace gns::config {

using namespace containerd_toml;

namespace {

// The number at the start of `text`, and what follows it.
std::optional<int> leading_number(std::string_view& text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return value;
}

bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  return fs::path(a).lexically_normal() == fs::path(b).lexically_normal();
}

void check_arguments(const std::string& config_path, const std::string& dropin_path,
                     int64_t version_if_blank) {
  if (version_if_blank < 2 || version_if_blank > 4)
    throw Error("a containerd drop-in needs a config of version 2 to 4, not " +
                std::to_string(version_if_blank));
  if (same_file(config_path, dropin_path))
    throw Error(config_path +
                " is the drop-in gpu-node-setup writes for containerd: it cannot "
                "import itself. Name containerd's main config with --config");
}

void refuse_version_1(const Document& config, const std::string& dropin_path) {
  if (config.version != 1) return;
  throw Error(config.path +
              " has no `version` key, so containerd reads it as a version 1 "
              "config, whose plugins have short names a drop-in of version 2 or "
              "later does not share (and containerd refuses a drop-in of a higher "
              "version than the file importing it); gpu-node-setup writes " +
              dropin_path + " only for configs of version 2 or later");
}

std::string dropin_comment(const std::string& config_path) {
  return "# Written by gpu-node-setup: the NVIDIA runtime for containerd, imported by\n# " +
         config_path +
         "; containerd 2.1 and later merge it key by key over that file.\n"
         "# `gpu-node-setup revert` removes it.\n";
}

// The drop-in's text: our comment, then what configure_containerd_runtime would write into an
// empty file of config.toml's version, the runtime copied from config.toml's default.
std::string render_dropin(const Document& config, const CriPaths& paths,
                          const std::string& dropin_path, const ContainerdRuntimeSettings& settings,
                          const RuntimeFragment& fragment) {
  const Document empty = read_document("", dropin_path, config.version);
  auto tables = containerd_runtime::runtime_tables(config, empty, paths, settings, fragment);
  if (settings.set_as_default)
    tables.push_back(containerd_runtime::default_table(empty, paths, settings.runtime_name));
  return dropin_comment(config.path) +
         containerd_text::render_addition(config.version, tables, empty.layout.newline);
}

// Throws Error (a bug) unless `text` means the version, the runtime and (when asked) the
// default, and nothing else.
void check_dropin(const std::string& text, const std::string& dropin_path, const Document& config,
                  const CriPaths& paths, const ContainerdRuntimeSettings& settings,
                  const RuntimeFragment& fragment) {
  toml::table expected;
  expected.insert("version", config.version);
  table_at(expected, paths.runtimes)
      .insert_or_assign(settings.runtime_name,
                        containerd_runtime::expected_runtime(config, paths, settings, fragment));
  if (settings.set_as_default)
    table_at(expected, paths.containerd)
        .insert_or_assign("default_runtime_name", settings.runtime_name);
  require_same(parse_written(text, dropin_path), expected, dropin_path);
}

}  // namespace

std::optional<ContainerdVersion> parse_containerd_version(std::string_view output) {
  std::istringstream words{std::string(output)};
  std::string word;
  for (int i = 0; i < 3 && words >> word; ++i) {
  }
  std::string_view rest = word;
  if (rest.starts_with('v')) rest.remove_prefix(1);
  const auto major = leading_number(rest);
  if (!major || !rest.starts_with('.')) return std::nullopt;
  rest.remove_prefix(1);
  const auto minor = leading_number(rest);
  if (!minor) return std::nullopt;
  return ContainerdVersion{*major, *minor};
}

bool merges_imports_key_by_key(ContainerdVersion version) {
  return version >= ContainerdVersion{2, 1};
}

ContainerdConfigFacts read_containerd_config_facts(std::string_view text, const std::string& path,
                                                   int64_t version_if_blank,
                                                   const ContainerdRuntimeSettings& settings) {
  const Document doc = read_document(text, path, version_if_blank);
  const CriPaths paths = cri_paths(doc.version, settings.runtime_name);
  const bool already_default =
      settings.set_as_default && default_running_binary(doc, paths, settings);
  return {doc.blank, doc.version, already_default || has_our_runtime(doc, paths, settings)};
}

std::string_view to_string(ContainerdImport import) {
  switch (import) {
    case ContainerdImport::entry: return "entry";
    case ContainerdImport::line: return "line";
    case ContainerdImport::file: return "file";
    case ContainerdImport::nothing: break;
  }
  return "nothing";
}

std::optional<ContainerdImport> parse_containerd_import(std::string_view word) {
  for (auto import : {ContainerdImport::nothing, ContainerdImport::entry, ContainerdImport::line,
                      ContainerdImport::file})
    if (to_string(import) == word) return import;
  return std::nullopt;
}

ContainerdDropin configure_containerd_dropin(std::string_view config_text,
                                             const std::string& config_path,
                                             const std::string& dropin_path,
                                             int64_t version_if_blank,
                                             const ContainerdRuntimeSettings& settings,
                                             const Template& runtime_template) {
  check_arguments(config_path, dropin_path, version_if_blank);
  const RuntimeFragment fragment =
      render_runtime_template(runtime_template, settings.runtime_name, settings.runtime_path);
  const Document config = read_document(config_text, config_path, version_if_blank);
  refuse_version_1(config, dropin_path);
  const CriPaths paths = cri_paths(config.version, settings.runtime_name);
  ContainerdDropin out;
  out.config.config_version = config.version;
  out.config.previous_default = default_runtime_name(config, paths);
  out.config.cri_disabled = cri_disabled(config);
  out.config.text = std::string(config_text);
  if (settings.set_as_default) {
    out.config.already_default = default_running_binary(config, paths, settings);
    if (out.config.already_default) return out;
  }
  has_our_runtime(config, paths, settings);  // throws for another runtime of that name
  if (settings.set_as_default) refuse_deprecated_default(config, paths);
  out.config.runtime_added = true;
  out.text = render_dropin(config, paths, dropin_path, settings, fragment);
  check_dropin(out.text, dropin_path, config, paths, settings, fragment);
  auto import = containerd_imports::add_import(config, dropin_path);
  out.import = import.added;
  out.config.changed = import.added != ContainerdImport::nothing;
  out.config.text = std::move(import.text);
  for (auto& entry : containerd_imports::entries(config))
    if (!same_file(entry, dropin_path)) out.other_imports.push_back(std::move(entry));
  return out;
}

ContainerdEdit remove_containerd_import(std::string_view config_text,
                                        const std::string& config_path,
                                        const std::string& dropin_path, ContainerdImport import) {
  const Document doc = read_document(config_text, config_path, 2);
  ContainerdEdit edit;
  edit.config_version = doc.version;
  edit.text = containerd_imports::remove_import(doc, dropin_path, import);
  edit.changed = edit.text != config_text;
  return edit;
}

}  // namespace gns::config
