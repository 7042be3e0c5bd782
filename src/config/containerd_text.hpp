#pragma once
// Internal to containerd_config.cpp and containerd_dropin.cpp: how additions are written as text — indentation taken
// from the file, the rendering of new tables — and the byte splices that put them in and take
// them out again. Kept apart so that the rendering can move to templates/ as one piece.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "toml_spans.hpp"

namespace gns::config::containerd_text {

// How a new table is written so that it looks like its neighbours.
struct TableStyle {
  std::string header_indent;  // before the `[` of its header
  std::string key_indent;     // before each of its keys
  char key_quote = '"';       // for keys that need quoting
  char value_quote = '"';     // for new string values
};

// One table the edit appends. `entries` hold a key relative to the table (dotted when longer
// than one part) and the TOML text of its value, already written.
struct NewTable {
  KeyPath path;
  TableStyle style;
  std::vector<std::pair<KeyPath, std::string>> entries;
};

// The text appended to the file: a `version = N` line when `version` is set, then `tables`,
// one blank line apart, each line ending in `newline`. The one place that writes new TOML.
std::string render_addition(std::optional<int64_t> version, const std::vector<NewTable>& tables,
                            const std::string& newline);

// How `text` (scanned as `layout`) would write a new table at `path`: like an existing header
// that differs from `path` only in part `vary_at` (another runtime, for a runtime table), else
// one nesting step per level below the nearest ancestor header, as the file nests its tables.
// Pass `vary_at` = path.size() to skip the sibling search.
TableStyle new_table_style(std::string_view text, const TomlLayout& layout, const KeyPath& path,
                           size_t vary_at);

// The quote the file uses in keys: header `header_index`'s when it has a quoted key, else that
// of the first header that has one; '"' when none has.
char key_quote_style(std::string_view text, const TomlLayout& layout,
                     std::optional<size_t> header_index);

// The quote the file uses for strings: that of the first string value in section
// `header_index`, else of the first in the file; '"' when it has none.
char value_quote_style(std::string_view text, const TomlLayout& layout,
                       std::optional<size_t> header_index);

// The indentation of keys in section `header_index`: its first key's, or its header's plus the
// file's usual key indentation when it has none yet.
std::string section_key_indent(std::string_view text, const TomlLayout& layout,
                               size_t header_index);

// `text` with bytes [begin, end) replaced by `with`.
std::string replace_bytes(std::string_view text, size_t begin, size_t end, std::string_view with);

// `text` with `line` (no newline of its own) inserted at `line_end`, the end of a line. When
// that line is the last and has no newline, the file keeps having none.
std::string insert_line_after(std::string_view text, size_t line_end, std::string_view line,
                              std::string_view newline);

// `text` without the line(s) [line_begin, line_end); undoes insert_line_after.
std::string delete_line(std::string_view text, size_t line_begin, size_t line_end);

// `text` + `newline` + `block` (`block` alone when `text` is empty): a blank line before the
// block after a final newline, or just the missing final newline. Undone by erase_tail.
std::string append_block(std::string_view text, std::string_view block, std::string_view newline);

// `text` cut at `begin` (the start of a line), less the one line break append_block put there.
std::string erase_tail(std::string_view text, size_t begin);

// `text` emptied when all it holds (bar blanks and comments before it) is a `version = N` line:
// what an edit that created the file from an empty one leaves once its additions are out.
std::string remove_lone_version(const std::string& text);

}  // namespace gns::config::containerd_text
