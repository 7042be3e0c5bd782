#include "containerd_config.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "containerd_runtime.hpp"
#include "containerd_text.hpp"
#include "containerd_toml.hpp"
#include "toml_document.hpp"
#include "toml_spans.hpp"

namespace gns::config {

using namespace containerd_toml;
using containerd_text::NewTable;

namespace {

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

// Deletes the [table] sections of runtime `runtime` (configure appends them together).
std::string remove_runtime_tables(const Document& doc, const KeyPath& runtime) {
  const TomlLayout& layout = doc.layout;
  for (const auto& pair : layout.keys) {
    if (!starts_with(pair.path, runtime)) continue;
    if (pair.header < 0 ||
        !starts_with(layout.headers[static_cast<size_t>(pair.header)].path, runtime))
      throw ConfigError(doc.path, pair.line, pair.column,
                        "`" + render_key(runtime) +
                            "` is written inside another table (dotted keys or an inline "
                            "table), not as the [table] sections gpu-node-setup adds; remove "
                            "it by hand");
  }
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t i = 0; i < layout.headers.size(); ++i) {
    if (!starts_with(layout.headers[i].path, runtime)) continue;
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
                                            const ContainerdRuntimeSettings& settings,
                                            const Template& runtime_template) {
  check_arguments(version_if_empty, settings);
  const RuntimeFragment fragment =
      render_runtime_template(runtime_template, settings.runtime_name, settings.runtime_path);
  const Document doc = read_document(original, path, version_if_empty);
  const CriPaths paths = cri_paths(doc.version, settings.runtime_name);
  ContainerdEdit edit;
  edit.config_version = doc.version;
  edit.previous_default = default_runtime_name(doc, paths);
  edit.cri_disabled = cri_disabled(doc);
  if (settings.set_as_default) {
    // Checked before our name is: with the NVIDIA runtime the default already, nothing is
    // added, so a runtime that has our name is no obstacle either.
    edit.already_default = default_running_binary(doc, paths, settings);
    if (edit.already_default) {
      edit.text = std::string(original);
      return edit;
    }
  }
  edit.runtime_added = !has_our_runtime(doc, paths, settings);
  edit.runc_added = edit.runtime_added && needs_explicit_runc(doc, paths, settings.runtime_name);
  if (settings.set_as_default) refuse_deprecated_default(doc, paths);
  const bool set_default =
      settings.set_as_default && edit.previous_default != settings.runtime_name;

  std::string text(original);
  std::vector<NewTable> tables;
  // runc first, as containerd's own default config lists it.
  if (edit.runc_added) tables.push_back(containerd_runtime::runc_table(doc, paths));
  if (edit.runtime_added)
    for (auto& table : containerd_runtime::runtime_tables(doc, doc, paths, settings, fragment))
      tables.push_back(std::move(table));
  // An appended `[<cri>.containerd]` table goes after the runtime's: there, revert can tell it
  // from one the user wrote (see is_appended_default_table).
  if (set_default) {
    if (auto spliced = set_default_in_place(doc, paths, settings.runtime_name)) {
      text = std::move(*spliced);
    } else {
      tables.push_back(containerd_runtime::default_table(doc, paths, settings.runtime_name));
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
  if (edit.changed)
    check_configured(doc, paths, settings, set_default, edit,
                     containerd_runtime::expected_runtime(doc, paths, settings, fragment));
  return edit;
}

ContainerdEdit remove_containerd_runtime(std::string_view original, const std::string& path,
                                         const std::string& runtime_name,
                                         const std::optional<std::string>& previous_default,
                                         KeepRuntime keep_runtime, AddedRunc added_runc) {
  const Document doc = read_document(original, path, 1);
  const CriPaths paths = cri_paths(doc.version, runtime_name);
  ContainerdEdit edit;
  edit.config_version = doc.version;
  edit.previous_default = default_runtime_name(doc, paths);
  edit.cri_disabled = cri_disabled(doc);
  std::string text = restore_default(std::string(original), path, paths, runtime_name,
                                     previous_default, keep_runtime);
  // Ours first: configure appended runc before it, so runc is then at the end of the file.
  if (keep_runtime == KeepRuntime::no && find_node(doc.root, paths.runtime)) {
    const std::string restored = std::move(text);
    text = remove_runtime_tables(read_document(restored, path, 1), paths.runtime);
  }
  const bool remove_runc =
      added_runc == AddedRunc::yes && runc_is_removable(doc, paths, keep_runtime);
  if (remove_runc) {
    const std::string kept = std::move(text);
    text = remove_runtime_tables(read_document(kept, path, 1), runc_path(paths));
  }
  if (text != original) text = containerd_text::remove_lone_version(text);
  edit.changed = text != original;
  edit.text = std::move(text);
  if (edit.changed)
    check_removed(doc, paths, previous_default, keep_runtime, remove_runc, edit.text);
  return edit;
}

}  // namespace gns::config
