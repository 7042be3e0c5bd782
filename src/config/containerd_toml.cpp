#include "containerd_toml.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "../error.hpp"
#include "toml_document.hpp"

namespace gns::config::containerd_toml {

namespace {

// The shims that run an OCI runtime binary the way the NVIDIA runtime expects (it wraps runc).
bool is_runc_shim(const toml::table& runtime) {
  const toml::node* type = runtime.get("runtime_type");
  if (!type) return true;
  const auto value = type->value<std::string>();
  return value && (value->empty() || *value == k_runc_v2 || *value == "io.containerd.runc.v1" ||
                   *value == k_linux_v1);
}

// The binary paths `runtime` names in its options (BinaryName, or Runtime for the v1 shim).
std::vector<std::string> binary_paths(const toml::table& runtime) {
  std::vector<std::string> paths;
  if (const toml::table* options = runtime["options"].as_table())
    for (auto&& [key, value] : *options)
      if (iequals(key.str(), "BinaryName") || iequals(key.str(), "Runtime"))
        paths.push_back(value.value_or(std::string("(not a string)")));
  return paths;
}

// True when `node` is a runtime that runs `binary` in a runc shim: every BinaryName (or
// Runtime, for the v1 shim) it names, in any case of the key, is `binary`, and it names one.
bool runs_binary(const toml::node& node, const std::string& binary) {
  const toml::table* runtime = node.as_table();
  if (!runtime || !is_runc_shim(*runtime)) return false;
  const auto paths = binary_paths(*runtime);
  return !paths.empty() &&
         std::all_of(paths.begin(), paths.end(), [&](const std::string& p) { return p == binary; });
}

// True when the deprecated `default_runtime` table has a type: containerd 1.x (schemas 1 and
// 2) then uses it as the default, whatever default_runtime_name says.
bool has_typed_deprecated_default(const Document& doc, const CriPaths& paths) {
  return doc.version <= 2 &&
         !string_at(doc.root, join(paths.containerd, {"default_runtime", "runtime_type"})).empty();
}

std::string describe_runtime(const toml::node& node) {
  const toml::table* runtime = node.as_table();
  if (!runtime) return "not a table";
  std::string text = "runtime_type \"" + (*runtime)["runtime_type"].value_or(std::string()) + "\"";
  const auto paths = binary_paths(*runtime);
  return text + (paths.empty() ? ", no BinaryName" : ", BinaryName \"" + paths.front() + "\"");
}

// The runtimes the new one may copy, best first: the one containerd uses by default (an nvidia*
// default only when it runs our binary: another build of the NVIDIA runtime may carry settings
// that are not runc's), runc, crun, and then any runtime that runs our binary already, which is
// a better source than a fresh table (it has this host's SystemdCgroup).
std::vector<KeyPath> inheritance_candidates(const Document& doc, const CriPaths& paths,
                                            const ContainerdRuntimeSettings& settings) {
  std::vector<KeyPath> candidates;
  if (has_typed_deprecated_default(doc, paths))
    candidates.push_back(join(paths.containerd, {"default_runtime"}));
  const std::string named = string_at(doc.root, join(paths.containerd, {"default_runtime_name"}));
  const KeyPath named_path = join(paths.runtimes, {named});
  const toml::node* named_node = find_node(doc.root, named_path);
  const bool runs_ours = named_node && runs_binary(*named_node, settings.runtime_path);
  if (!named.empty() && named != settings.runtime_name &&
      (!named.starts_with("nvidia") || runs_ours))
    candidates.push_back(named_path);
  for (const std::string fallback : {"runc", "crun"})
    if (fallback != settings.runtime_name) candidates.push_back(join(paths.runtimes, {fallback}));
  const toml::node* runtimes = find_node(doc.root, paths.runtimes);
  if (runtimes && runtimes->is_table())
    for (auto&& [name, node] : *runtimes->as_table())
      if (name.str() != settings.runtime_name && runs_binary(node, settings.runtime_path))
        candidates.push_back(join(paths.runtimes, {name.str()}));
  return candidates;
}

// Removes the tables of `table` that are (or become) empty.
void prune_empty_tables(toml::table& table) {
  std::vector<std::string> empty;
  for (auto&& [key, node] : table) {
    if (toml::table* child = node.as_table()) {
      prune_empty_tables(*child);
      if (child->empty()) empty.emplace_back(key.str());
    }
  }
  for (const auto& key : empty) table.erase(key);
}

}  // namespace

toml::table& table_at(toml::table& root, const KeyPath& path) {
  toml::table* table = &root;
  for (const auto& part : path) {
    if (!table->contains(part)) table->insert(part, toml::table{});
    table = table->get(part)->as_table();
    if (!table)
      throw Error("`" + render_key(path) + "` is not a table; this is a bug in gpu-node-setup");
  }
  return *table;
}

toml::table parse_written(const std::string& text, const std::string& path) {
  try {
    return parse_toml(text, path);
  } catch (const ConfigError& e) {
    throw Error(std::string("gpu-node-setup wrote invalid TOML (") + e.what() +
                "); this is a bug in gpu-node-setup");
  }
}

void require_same(const toml::table& actual, const toml::table& expected, const std::string& path) {
  if (actual != expected)
    throw Error("the edit of " + path + " would not mean what it should, so it was not made; " +
                "this is a bug in gpu-node-setup");
}

Document read_document(std::string_view text, const std::string& path, int64_t version_if_blank) {
  Document doc{text, path, parse_toml(text, path), scan_toml_layout(text)};
  doc.blank = doc.layout.headers.empty() && doc.layout.keys.empty();
  const toml::node* version = doc.root.get("version");
  if (!version) {
    doc.version = doc.blank ? version_if_blank : 1;
    return doc;
  }
  if (!version->is_integer()) throw_at(doc, version, "`version` must be an integer");
  doc.version = version->as_integer()->get();
  if (doc.version < 1 || doc.version > 4)
    throw_at(doc, version,
             "containerd config version " + std::to_string(doc.version) +
                 " is not one gpu-node-setup knows (1 to 4)");
  return doc;
}

CriPaths cri_paths(int64_t version, const std::string& runtime_name) {
  const KeyPath cri = version <= 1   ? KeyPath{"plugins", "cri"}
                      : version == 2 ? KeyPath{"plugins", "io.containerd.grpc.v1.cri"}
                                     : KeyPath{"plugins", "io.containerd.cri.v1.runtime"};
  CriPaths paths{join(cri, {"containerd"}), join(cri, {"containerd", "runtimes"}), {}};
  paths.runtime = join(paths.runtimes, {runtime_name});
  return paths;
}

KeyPath join(KeyPath base, std::initializer_list<std::string_view> more) {
  for (const auto part : more) base.emplace_back(part);
  return base;
}

bool starts_with(const KeyPath& path, const KeyPath& prefix) {
  return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const toml::node* find_node(const toml::table& root, const KeyPath& path) {
  const toml::node* node = &root;
  for (const auto& part : path) {
    const toml::table* table = node->as_table();
    node = table ? table->get(part) : nullptr;
    if (!node) return nullptr;
  }
  return node;
}

std::string string_at(const toml::table& root, const KeyPath& path) {
  const toml::node* node = find_node(root, path);
  return node ? node->value_or(std::string()) : std::string();
}

bool is_empty_table(const toml::table& root, const KeyPath& path) {
  const toml::node* node = find_node(root, path);
  return node && node->is_table() && node->as_table()->empty();
}

const TomlKeyValue* find_pair(const TomlLayout& layout, const KeyPath& path) {
  for (const auto& pair : layout.keys)
    if (pair.path == path) return &pair;
  return nullptr;
}

std::optional<size_t> find_header(const TomlLayout& layout, const KeyPath& path) {
  for (size_t i = 0; i < layout.headers.size(); ++i)
    if (!layout.headers[i].array && layout.headers[i].path == path) return i;
  return std::nullopt;
}

void throw_at(const Document& doc, const toml::node* node, const std::string& message) {
  const toml::source_position where = node ? node->source().begin : toml::source_position{};
  throw ConfigError(doc.path, where.line, where.column, message);
}

void check_table_path(const Document& doc, const KeyPath& path, const std::string& what) {
  for (size_t n = 1; n <= path.size(); ++n) {
    const KeyPath prefix(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(n));
    const toml::node* node = find_node(doc.root, prefix);
    if (!node) return;
    const std::string name = "`" + render_key(prefix) + "`";
    if (node->is_array_of_tables())
      throw_at(doc, node,
               name + " is an array of tables, so " + what + " has no one table to go in");
    if (!node->is_table())
      throw_at(doc, node, name + " is a value, not a table, so " + what + " cannot go under it");
    if (node->as_table()->is_inline())
      throw_at(doc, node,
               name + " is written as an inline table; gpu-node-setup adds " + what +
                   " only as [table] sections and does not rewrite yours. Write it as a [" +
                   render_key(prefix) + "] table and run again");
  }
}

std::optional<std::string> default_runtime_name(const Document& doc, const CriPaths& paths) {
  const toml::node* node = find_node(doc.root, join(paths.containerd, {"default_runtime_name"}));
  if (!node) return std::nullopt;
  if (!node->is_string()) throw_at(doc, node, "default_runtime_name must be a string");
  return node->value<std::string>();
}

bool cri_disabled(const Document& doc) {
  static const std::array<std::string_view, 3> k_cri_ids = {"cri", "io.containerd.grpc.v1.cri",
                                                            "io.containerd.cri.v1.runtime"};
  const toml::array* disabled = doc.root["disabled_plugins"].as_array();
  if (!disabled) return false;
  return std::any_of(disabled->begin(), disabled->end(), [](const toml::node& id) {
    const std::string value = id.value_or(std::string());
    return std::find(k_cri_ids.begin(), k_cri_ids.end(), value) != k_cri_ids.end();
  });
}

void refuse_deprecated_default(const Document& doc, const CriPaths& paths) {
  const KeyPath table = join(paths.containerd, {"default_runtime"});
  if (!has_typed_deprecated_default(doc, paths)) return;
  throw_at(doc, find_node(doc.root, table),
           "the deprecated [" + render_key(table) +
               "] table has a runtime_type, and containerd then makes it the default whatever "
               "default_runtime_name says. Move its settings to a runtime under [" +
               render_key(paths.runtimes) +
               "] and name that in default_runtime_name, or do not make the NVIDIA runtime the "
               "default");
}

bool has_our_runtime(const Document& doc, const CriPaths& paths,
                     const ContainerdRuntimeSettings& settings) {
  const toml::node* node = find_node(doc.root, paths.runtime);
  if (!node) return false;
  if (runs_binary(*node, settings.runtime_path)) return true;
  throw Error(doc.path + ":" + std::to_string(node->source().begin.line) +
              ": containerd already has a runtime named \"" + settings.runtime_name + "\" (" +
              describe_runtime(*node) + "), which is not " + settings.runtime_path +
              "; gpu-node-setup does not overwrite another runtime. If it is the NVIDIA runtime "
              "you want, name its binary with --runtime-path; else choose another name with "
              "--runtime-name, or remove that runtime from the file first");
}

std::optional<std::string> default_running_binary(const Document& doc, const CriPaths& paths,
                                                  const ContainerdRuntimeSettings& settings) {
  if (has_typed_deprecated_default(doc, paths)) return std::nullopt;
  const std::string name = default_runtime_name(doc, paths).value_or("runc");
  if (name == settings.runtime_name) return std::nullopt;
  const toml::node* node = find_node(doc.root, join(paths.runtimes, {name}));
  if (!node || !runs_binary(*node, settings.runtime_path)) return std::nullopt;
  return name;
}

std::optional<KeyPath> inheritance_source(const Document& doc, const CriPaths& paths,
                                          const ContainerdRuntimeSettings& settings) {
  for (const auto& candidate : inheritance_candidates(doc, paths, settings)) {
    const toml::node* node = find_node(doc.root, candidate);
    if (!node || !node->is_table() || !is_runc_shim(*node->as_table())) continue;
    const toml::node* options = node->as_table()->get("options");
    if (options && !options->is_table())
      throw_at(doc, options, "`" + render_key(join(candidate, {"options"})) + "` must be a table");
    return candidate;
  }
  return std::nullopt;
}

KeyPath runc_path(const CriPaths& paths) { return join(paths.runtimes, {"runc"}); }

bool needs_explicit_runc(const Document& doc, const CriPaths& paths,
                         const std::string& runtime_name) {
  return doc.version <= 2 && runtime_name != "runc" && !find_node(doc.root, paths.runtimes);
}

bool runc_is_removable(const Document& doc, const CriPaths& paths, KeepRuntime keep_runtime) {
  const KeyPath runc = runc_path(paths);
  toml::table ours;
  ours.insert("runtime_type", std::string(k_runc_v2));
  const toml::node* node = find_node(doc.root, runc);
  if (!node || !node->is_table() || *node->as_table() != ours) return false;
  for (const auto& pair : doc.layout.keys)
    if (starts_with(pair.path, runc) &&
        (pair.header < 0 || doc.layout.headers[static_cast<size_t>(pair.header)].path != runc))
      return false;
  const toml::table& runtimes = *find_node(doc.root, paths.runtimes)->as_table();
  const bool ours_goes = keep_runtime == KeepRuntime::no;
  return std::all_of(runtimes.begin(), runtimes.end(), [&](const auto& entry) {
    return entry.first.str() == "runc" || (ours_goes && entry.first.str() == paths.runtime.back());
  });
}

void check_configured(const Document& doc, const CriPaths& paths,
                      const ContainerdRuntimeSettings& settings, bool set_default,
                      const ContainerdEdit& edit, const toml::table& runtime) {
  toml::table expected = doc.root;
  if (doc.blank) expected.insert_or_assign("version", doc.version);
  if (set_default)
    table_at(expected, paths.containerd)
        .insert_or_assign("default_runtime_name", settings.runtime_name);
  if (edit.runtime_added)
    table_at(expected, paths.runtimes).insert_or_assign(settings.runtime_name, runtime);
  if (edit.runc_added)
    table_at(expected, runc_path(paths)).insert_or_assign("runtime_type", std::string(k_runc_v2));
  require_same(parse_written(edit.text, doc.path), expected, doc.path);
}

void check_removed(const Document& doc, const CriPaths& paths,
                   const std::optional<std::string>& previous_default, KeepRuntime keep_runtime,
                   bool remove_runc, const std::string& text) {
  const std::string& name = paths.runtime.back();
  toml::table expected = doc.root;
  if (keep_runtime == KeepRuntime::no && find_node(expected, paths.runtime))
    table_at(expected, paths.runtimes).erase(name);
  if (remove_runc) table_at(expected, paths.runtimes).erase("runc");
  if (string_at(expected, join(paths.containerd, {"default_runtime_name"})) == name) {
    toml::table& containerd = table_at(expected, paths.containerd);
    if (!previous_default) containerd.erase("default_runtime_name");
    if (previous_default) containerd.insert_or_assign("default_runtime_name", *previous_default);
  }
  toml::table actual = parse_written(text, doc.path);
  prune_empty_tables(expected);
  prune_empty_tables(actual);
  // A config we created from an empty file goes back to empty, version line and all.
  if (!actual.contains("version") && expected.size() == 1) expected.erase("version");
  require_same(actual, expected, doc.path);
}

}  // namespace gns::config::containerd_toml
