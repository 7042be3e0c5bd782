#include "containerd_runtime.hpp"

#include <algorithm>
#include <utility>

#include "../error.hpp"

namespace gns::config::containerd_runtime {

using namespace containerd_toml;
using containerd_text::NewTable;

namespace {

using Entries = std::vector<std::pair<KeyPath, std::string>>;

// The new runtime's keys, with their values written as TOML text: copied byte for byte from
// the runtime it inherits from, so that numbers, arrays and quoting stay as the user wrote them.
struct RuntimeEntries {
  Entries runtime;
  Entries options;
};

bool same_key(const KeyPath& a, const KeyPath& b, bool any_case) {
  if (!any_case) return a == b;
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), iequals);
}

// Gives every key of `entries` equal to `key` (in any case when `any_case`: containerd matches
// runc option keys that way) the value `value`. When there is none, takes out the keys that
// `key` replaces (a value where it needs a table, or the keys below it) and adds it.
void set_entry(Entries& entries, const KeyPath& key, const std::string& value, bool any_case) {
  bool found = false;
  for (auto& [entry_key, entry_value] : entries) {
    if (!same_key(entry_key, key, any_case)) continue;
    entry_value = value;
    found = true;
  }
  if (found) return;
  std::erase_if(entries, [&](const auto& entry) {
    return starts_with(key, entry.first) || starts_with(entry.first, key);
  });
  entries.push_back({key, value});
}

// Every value below `source`, as written. An empty table is kept as `{}` so that copying
// loses nothing; `options` itself is always a table of its own in what we write.
RuntimeEntries copy_entries(const Document& doc, const KeyPath& source) {
  RuntimeEntries out;
  auto add = [&](const KeyPath& path, std::string value) {
    KeyPath relative(path.begin() + static_cast<std::ptrdiff_t>(source.size()), path.end());
    if (relative == KeyPath{"options"}) return;
    if (relative.front() == "options") {
      out.options.push_back({KeyPath(relative.begin() + 1, relative.end()), std::move(value)});
    } else {
      out.runtime.push_back({std::move(relative), std::move(value)});
    }
  };
  const auto& keys = doc.layout.keys;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].path.size() <= source.size() || !starts_with(keys[i].path, source)) continue;
    const bool has_inner = i + 1 < keys.size() && keys[i + 1].path.size() > keys[i].path.size() &&
                           starts_with(keys[i + 1].path, keys[i].path);
    if (keys[i].value_is_inline_table && has_inner) continue;
    add(keys[i].path,
        std::string(doc.text.substr(keys[i].value_begin, keys[i].value_end - keys[i].value_begin)));
  }
  for (const auto& header : doc.layout.headers) {
    if (header.path.size() <= source.size() || !starts_with(header.path, source)) continue;
    if (header.array)
      throw_at(
          doc, find_node(doc.root, header.path),
          "cannot copy the settings of `" + render_key(source) + "`: it holds an array of tables");
    if (is_empty_table(doc.root, header.path)) add(header.path, "{}");
  }
  return out;
}

// A template key's place: the options table (`options.X`), or the runtime's own.
bool in_options(const KeyPath& path) { return path.size() > 1 && path.front() == "options"; }

// The runtime_type the runtime ends up with: the template's, else the copied one, else runc v2.
std::string final_type(const std::string& copied, const RuntimeFragment& fragment) {
  if (auto type = fragment.runtime_type()) return *type;
  return copied.empty() ? std::string(k_runc_v2) : copied;
}

// The new runtime's keys: those of `source` (if any) with our type, the template's keys and,
// where containerd reads it, options.Runtime. New string values are quoted with `quote`, as
// the file they go in quotes.
RuntimeEntries runtime_entries(const Document& doc, const std::optional<KeyPath>& source,
                               const ContainerdRuntimeSettings& settings,
                               const RuntimeFragment& fragment, char quote) {
  RuntimeEntries entries = source ? copy_entries(doc, *source) : RuntimeEntries{};
  const std::string copied = source ? string_at(doc.root, join(*source, {"runtime_type"})) : "";
  if (copied.empty())
    set_entry(entries.runtime, {"runtime_type"}, render_string(k_runc_v2, quote), false);
  for (const auto& key : fragment.keys) {
    const std::string value = key.string ? render_string(*key.string, quote) : key.text;
    if (in_options(key.path)) {
      const KeyPath option(key.path.begin() + 1, key.path.end());
      set_entry(entries.options, option, value, option.size() == 1);
    } else {
      set_entry(entries.runtime, key.path, value, false);
    }
  }
  if (doc.version == 1 || final_type(copied, fragment) == k_linux_v1)
    set_entry(entries.options, {"Runtime"}, render_string(settings.runtime_path, quote), true);
  return entries;
}

// Sets every key of `table` equal to `key` in any case, or adds `key` when there is none.
void set_any_case(toml::table& table, std::string_view key, const toml::node& value) {
  std::vector<std::string> matches;
  for (auto&& [existing, node] : table)
    if (iequals(existing.str(), key)) matches.emplace_back(existing.str());
  if (matches.empty()) matches.emplace_back(key);
  for (const auto& match : matches) table.insert_or_assign(match, value);
}

// Puts `value` at `path` below `table`, replacing whatever is in its way.
void put(toml::table& table, const KeyPath& path, const toml::node& value) {
  toml::table* at = &table;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    toml::node* next = at->get(path[i]);
    if (!next || !next->is_table()) {
      at->insert_or_assign(path[i], toml::table{});
      next = at->get(path[i]);
    }
    at = next->as_table();
  }
  at->insert_or_assign(path.back(), value);
}

const toml::node& node_at(const toml::table& root, const KeyPath& path) {
  const toml::node* node = find_node(root, path);
  if (!node) throw Error("`" + render_key(path) + "` is missing; this is a bug in gpu-node-setup");
  return *node;
}

}  // namespace

std::vector<NewTable> runtime_tables(const Document& source, const Document& target,
                                     const CriPaths& paths,
                                     const ContainerdRuntimeSettings& settings,
                                     const RuntimeFragment& fragment) {
  check_table_path(target, paths.runtimes, "the runtime");
  const KeyPath options = join(paths.runtime, {"options"});
  const size_t vary_at = paths.runtimes.size();
  auto style = containerd_text::new_table_style(target.text, target.layout, paths.runtime, vary_at);
  auto options_style =
      containerd_text::new_table_style(target.text, target.layout, options, vary_at);
  options_style.key_quote = style.key_quote;
  const auto inherited = inheritance_source(source, paths, settings);
  RuntimeEntries entries =
      runtime_entries(source, inherited, settings, fragment, style.value_quote);
  return {
      {paths.runtime, std::move(style), std::move(entries.runtime)},
      {options, std::move(options_style), std::move(entries.options)},
  };
}

toml::table expected_runtime(const Document& source, const CriPaths& paths,
                             const ContainerdRuntimeSettings& settings,
                             const RuntimeFragment& fragment) {
  const auto inherited = inheritance_source(source, paths, settings);
  toml::table runtime = inherited ? *find_node(source.root, *inherited)->as_table() : toml::table{};
  const std::string copied = runtime["runtime_type"].value_or(std::string());
  if (copied.empty()) runtime.insert_or_assign("runtime_type", std::string(k_runc_v2));
  table_at(runtime, {"options"});
  for (const auto& key : fragment.keys) {
    const toml::node& value = node_at(fragment.table, key.path);
    if (in_options(key.path) && key.path.size() == 2) {
      set_any_case(*runtime["options"].as_table(), key.path[1], value);
    } else {
      put(runtime, key.path, value);
    }
  }
  if (source.version == 1 || final_type(copied, fragment) == k_linux_v1)
    set_any_case(*runtime["options"].as_table(), "Runtime",
                 toml::value<std::string>(settings.runtime_path));
  return runtime;
}

NewTable runc_table(const Document& target, const CriPaths& paths) {
  const KeyPath runc = runc_path(paths);
  auto style =
      containerd_text::new_table_style(target.text, target.layout, runc, paths.runtimes.size());
  std::string type = render_string(k_runc_v2, style.value_quote);
  return {runc, std::move(style), {{{"runtime_type"}, std::move(type)}}};
}

NewTable default_table(const Document& target, const CriPaths& paths, const std::string& name) {
  auto style = containerd_text::new_table_style(target.text, target.layout, paths.containerd,
                                                paths.containerd.size());
  std::string value = render_string(name, style.value_quote);
  return {paths.containerd, std::move(style), {{{"default_runtime_name"}, std::move(value)}}};
}

}  // namespace gns::config::containerd_runtime
