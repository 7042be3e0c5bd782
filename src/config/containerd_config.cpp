#include "containerd_config.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "containerd_text.hpp"
#include "containerd_toml.hpp"
#include "toml_document.hpp"
#include "toml_spans.hpp"

namespace gns::config {

using namespace containerd_toml;
using containerd_text::NewTable;

namespace {

// The new runtime's keys, with their values written as TOML text: copied byte for byte from
// the runtime it inherits from, so that numbers, arrays and quoting stay as the user wrote them.
struct RuntimeEntries {
  std::vector<std::pair<KeyPath, std::string>> runtime;
  std::vector<std::pair<KeyPath, std::string>> options;
};

// Gives every key of `entries` equal to `key` (in any case when `any_case`) the value `value`,
// or adds `key` when there is none.
void set_entry(std::vector<std::pair<KeyPath, std::string>>& entries, std::string_view key,
               const std::string& value, bool any_case) {
  bool found = false;
  for (auto& [entry_key, entry_value] : entries) {
    if (entry_key.size() != 1) continue;
    if (any_case ? iequals(entry_key[0], key) : entry_key[0] == key) {
      entry_value = value;
      found = true;
    }
  }
  if (!found) entries.push_back({{std::string(key)}, value});
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

// The new runtime's keys: those of `source` (if any) with our type, BinaryName and Runtime.
// New string values are quoted with `quote`, as the file quotes.
RuntimeEntries runtime_entries(const Document& doc, const std::optional<KeyPath>& source,
                               const ContainerdRuntimeSettings& settings, char quote) {
  RuntimeEntries entries = source ? copy_entries(doc, *source) : RuntimeEntries{};
  const std::string type = source ? string_at(doc.root, join(*source, {"runtime_type"})) : "";
  if (type.empty())
    set_entry(entries.runtime, "runtime_type", render_string(k_runc_v2, quote), false);
  const std::string binary = render_string(settings.runtime_path, quote);
  set_entry(entries.options, "BinaryName", binary, true);
  if (doc.version == 1 || type == k_linux_v1) set_entry(entries.options, "Runtime", binary, true);
  return entries;
}

std::vector<NewTable> runtime_tables(const Document& doc, const CriPaths& paths,
                                     const ContainerdRuntimeSettings& settings) {
  check_table_path(doc, paths.runtimes, "the runtime");
  const KeyPath options = join(paths.runtime, {"options"});
  const size_t vary_at = paths.runtimes.size();
  auto style = containerd_text::new_table_style(doc.text, doc.layout, paths.runtime, vary_at);
  auto options_style = containerd_text::new_table_style(doc.text, doc.layout, options, vary_at);
  options_style.key_quote = style.key_quote;
  const auto source = inheritance_source(doc, paths, settings.runtime_name);
  RuntimeEntries entries = runtime_entries(doc, source, settings, style.value_quote);
  return {
      {paths.runtime, std::move(style), std::move(entries.runtime)},
      {options, std::move(options_style), std::move(entries.options)},
  };
}

// `value` quoted like `existing` (the bytes of the value it replaces): 'literal' stays literal
// where TOML allows it.
std::string quoted_like(std::string_view existing, const std::string& value) {
  const bool literal = existing.starts_with("'") && !existing.starts_with("'''");
  return render_string(value, literal ? '\'' : '"');
}

// Dotted keys (`[plugins]` + `"io.containerd.grpc.v1.cri".containerd.snapshotter = ...`)
// define a table inside another one: the last such key below `table`, if any.
const TomlKeyValue* last_dotted_key_below(const TomlLayout& layout, const KeyPath& table) {
  const TomlKeyValue* last = nullptr;
  for (const auto& pair : layout.keys)
    if (!pair.in_inline_table && pair.section_depth < table.size() &&
        pair.path.size() > table.size() && starts_with(pair.path, table))
      last = &pair;
  return last;
}

// Sets default_runtime_name where the file already has a place for it: replaces its value, or
// puts it after the `[<cri>.containerd]` header, or next to the dotted keys that define that
// table (a header for it would then be invalid). Returns the new text, or nothing when a
// `[<cri>.containerd]` table has to be appended for it.
std::optional<std::string> set_default_in_place(const Document& doc, const CriPaths& paths,
                                                const std::string& name) {
  const KeyPath key = join(paths.containerd, {"default_runtime_name"});
  if (const TomlKeyValue* pair = find_pair(doc.layout, key)) {
    const auto old = doc.text.substr(pair->value_begin, pair->value_end - pair->value_begin);
    return containerd_text::replace_bytes(doc.text, pair->value_begin, pair->value_end,
                                          quoted_like(old, name));
  }
  check_table_path(doc, paths.containerd, "default_runtime_name");
  const auto header = find_header(doc.layout, paths.containerd);
  const std::string assignment =
      " = " + render_string(name, containerd_text::value_quote_style(doc.text, doc.layout, header));
  if (header) {
    const std::string indent = containerd_text::section_key_indent(doc.text, doc.layout, *header);
    return containerd_text::insert_line_after(doc.text, doc.layout.headers[*header].line_end,
                                              indent + "default_runtime_name" + assignment,
                                              doc.layout.newline);
  }
  const TomlKeyValue* last = last_dotted_key_below(doc.layout, paths.containerd);
  if (!last) return std::nullopt;
  const KeyPath relative(key.begin() + static_cast<std::ptrdiff_t>(last->section_depth), key.end());
  const std::string indent(doc.text.substr(last->line_begin, last->key_begin - last->line_begin));
  return containerd_text::insert_line_after(
      doc.text, last->line_end,
      indent + render_key(relative, containerd_text::key_quote_style(doc.text, doc.layout, {})) +
          assignment,
      doc.layout.newline);
}

NewTable default_table(const Document& doc, const CriPaths& paths, const std::string& name) {
  auto style = containerd_text::new_table_style(doc.text, doc.layout, paths.containerd,
                                                paths.containerd.size());
  std::string value = render_string(name, style.value_quote);
  return {paths.containerd, std::move(style), {{{"default_runtime_name"}, std::move(value)}}};
}

// Deletes the runtime's [table] sections (configure appends them together at the end).
std::string remove_runtime_tables(const Document& doc, const CriPaths& paths) {
  const TomlLayout& layout = doc.layout;
  for (const auto& pair : layout.keys) {
    if (!starts_with(pair.path, paths.runtime)) continue;
    if (pair.header < 0 ||
        !starts_with(layout.headers[static_cast<size_t>(pair.header)].path, paths.runtime))
      throw ConfigError(doc.path, pair.line, pair.column,
                        "`" + render_key(paths.runtime) +
                            "` is written inside another table (dotted keys or an inline "
                            "table), not as the [table] sections gpu-node-setup adds; remove "
                            "it by hand");
  }
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t i = 0; i < layout.headers.size(); ++i) {
    if (!starts_with(layout.headers[i].path, paths.runtime)) continue;
    const size_t begin = layout.headers[i].line_begin;
    const size_t end = layout.section_end(i, doc.text.size());
    if (!spans.empty() && spans.back().second == begin) {
      spans.back().second = end;
    } else {
      spans.emplace_back(begin, end);
    }
  }
  std::string text(doc.text);
  for (auto it = spans.rbegin(); it != spans.rend(); ++it)
    text = it->second == text.size()
               ? containerd_text::erase_tail(text, it->first)
               : containerd_text::replace_bytes(text, it->first, it->second, "");
  return text;
}

// True when `pair` is all there is in a `[<cri>.containerd]` table that configure appended: the
// last table in the file, right after the runtime's own tables (or the only thing appended,
// when the runtime was there before).
bool is_appended_default_table(const Document& doc, const TomlKeyValue& pair, const CriPaths& paths,
                               KeepRuntime keep_runtime) {
  const auto& headers = doc.layout.headers;
  if (pair.header < 0 || static_cast<size_t>(pair.header) + 1 != headers.size()) return false;
  const TomlHeader& header = headers.back();
  if (header.path != paths.containerd) return false;
  const auto blank = [&](size_t begin, size_t end) {
    const auto bytes = doc.text.substr(begin, end - begin);
    return bytes.find_first_not_of(" \t\r\n") == std::string_view::npos;
  };
  if (!blank(header.line_end, pair.line_begin) || !blank(pair.line_end, doc.text.size()))
    return false;
  return keep_runtime == KeepRuntime::yes ||
         (headers.size() >= 2 && starts_with(headers[headers.size() - 2].path, paths.runtime));
}

// Puts default_runtime_name back, where it still names `name` (else someone changed it since).
std::string restore_default(const std::string& text, const std::string& path, const CriPaths& paths,
                            const std::string& name,
                            const std::optional<std::string>& previous_default,
                            KeepRuntime keep_runtime) {
  const Document doc = read_document(text, path, 1);
  const TomlKeyValue* pair =
      find_pair(doc.layout, join(paths.containerd, {"default_runtime_name"}));
  if (!pair || default_runtime_name(doc, paths) != name || previous_default == name) return text;
  if (previous_default) {
    const auto old = doc.text.substr(pair->value_begin, pair->value_end - pair->value_begin);
    return containerd_text::replace_bytes(text, pair->value_begin, pair->value_end,
                                          quoted_like(old, *previous_default));
  }
  if (pair->in_inline_table)
    throw ConfigError(path, pair->line, pair->column,
                      "default_runtime_name is inside an inline table, where gpu-node-setup "
                      "does not put it; set it back by hand");
  if (is_appended_default_table(doc, *pair, paths, keep_runtime))
    return containerd_text::erase_tail(text, doc.layout.headers.back().line_begin);
  return containerd_text::delete_line(text, pair->line_begin, pair->line_end);
}

// Empties a file left holding only `version = N`: configure wrote that line into an empty one.
std::string remove_lone_version(const std::string& text) {
  const TomlLayout layout = scan_toml_layout(text);
  if (!layout.headers.empty() || layout.keys.size() != 1 ||
      layout.keys[0].path != KeyPath{"version"})
    return text;
  if (text.find_first_not_of(" \t\r\n", layout.keys[0].line_end) != std::string::npos) return text;
  return containerd_text::erase_tail(text, layout.keys[0].line_begin);
}

void check_arguments(int64_t version_if_empty, const ContainerdRuntimeSettings& settings) {
  if (version_if_empty < 1 || version_if_empty > 4)
    throw Error("containerd config version " + std::to_string(version_if_empty) +
                " is not one gpu-node-setup can write (1 to 4)");
  if (settings.runtime_name.empty() || settings.runtime_path.empty())
    throw Error("the containerd runtime needs a name and a path");
}

}  // namespace

ContainerdEdit configure_containerd_runtime(std::string_view original, const std::string& path,
                                            int64_t version_if_empty,
                                            const ContainerdRuntimeSettings& settings) {
  check_arguments(version_if_empty, settings);
  const Document doc = read_document(original, path, version_if_empty);
  const CriPaths paths = cri_paths(doc.version, settings.runtime_name);
  ContainerdEdit edit;
  edit.config_version = doc.version;
  edit.previous_default = default_runtime_name(doc, paths);
  edit.cri_disabled = cri_disabled(doc);
  edit.runtime_added = !has_our_runtime(doc, paths, settings);
  if (settings.set_as_default) refuse_deprecated_default(doc, paths);
  const bool set_default =
      settings.set_as_default && edit.previous_default != settings.runtime_name;

  std::string text(original);
  std::vector<NewTable> tables;
  if (edit.runtime_added) tables = runtime_tables(doc, paths, settings);
  // An appended `[<cri>.containerd]` table goes after the runtime's: there, revert can tell it
  // from one the user wrote (see is_appended_default_table).
  if (set_default) {
    if (auto spliced = set_default_in_place(doc, paths, settings.runtime_name)) {
      text = std::move(*spliced);
    } else {
      tables.push_back(default_table(doc, paths, settings.runtime_name));
    }
  }
  if (!tables.empty()) {
    const auto version = doc.blank ? std::optional<int64_t>(doc.version) : std::nullopt;
    text = containerd_text::append_block(
        text, containerd_text::render_addition(version, tables, doc.layout.newline),
        doc.layout.newline);
  }
  edit.changed = text != original;
  edit.text = std::move(text);
  if (edit.changed) check_configured(doc, paths, settings, set_default, edit);
  return edit;
}

ContainerdEdit remove_containerd_runtime(std::string_view original, const std::string& path,
                                         const std::string& runtime_name,
                                         const std::optional<std::string>& previous_default,
                                         KeepRuntime keep_runtime) {
  const Document doc = read_document(original, path, 1);
  const CriPaths paths = cri_paths(doc.version, runtime_name);
  ContainerdEdit edit;
  edit.config_version = doc.version;
  edit.previous_default = default_runtime_name(doc, paths);
  edit.cri_disabled = cri_disabled(doc);
  std::string text = restore_default(std::string(original), path, paths, runtime_name,
                                     previous_default, keep_runtime);
  if (keep_runtime == KeepRuntime::no && find_node(doc.root, paths.runtime)) {
    const std::string restored = std::move(text);
    text = remove_runtime_tables(read_document(restored, path, 1), paths);
  }
  if (text != original) text = remove_lone_version(text);
  edit.changed = text != original;
  edit.text = std::move(text);
  if (edit.changed) check_removed(doc, paths, previous_default, keep_runtime, edit.text);
  return edit;
}

}  // namespace gns::config
