#include "containerd_text.hpp"

#include <algorithm>

namespace gns::config::containerd_text {

namespace {

std::string header_indent(std::string_view text, const TomlHeader& header) {
  return std::string(text.substr(header.line_begin, header.indent));
}

std::string pair_indent(std::string_view text, const TomlKeyValue& pair) {
  return std::string(text.substr(pair.line_begin, pair.key_begin - pair.line_begin));
}

const TomlKeyValue* first_pair_in_section(const TomlLayout& layout, size_t header_index) {
  for (const auto& pair : layout.keys)
    if (pair.header == static_cast<int>(header_index) && !pair.in_inline_table) return &pair;
  return nullptr;
}

// What `inner` adds to `outer` when it starts with it; all of `inner` otherwise.
std::string added_indent(const std::string& outer, const std::string& inner) {
  return inner.starts_with(outer) ? inner.substr(outer.size()) : inner;
}

// How far the file indents keys past their header (its first table with keys says), so that
// a file with tabs gets tabs. Two spaces when no table has keys, as `containerd config default`.
std::string key_step(std::string_view text, const TomlLayout& layout) {
  for (size_t i = 0; i < layout.headers.size(); ++i)
    if (const TomlKeyValue* pair = first_pair_in_section(layout, i))
      return added_indent(header_indent(text, layout.headers[i]), pair_indent(text, *pair));
  return "  ";
}

// How far the file indents a header past its parent's: the first parent/child pair of headers
// that is indented at all says; none when the file writes every header flush left.
std::string nesting_step(std::string_view text, const TomlLayout& layout) {
  for (const auto& child : layout.headers) {
    if (child.path.size() < 2) continue;
    const KeyPath parent_path(child.path.begin(), child.path.end() - 1);
    for (const auto& parent : layout.headers) {
      if (parent.array || parent.path != parent_path || child.indent <= parent.indent) continue;
      const std::string step =
          added_indent(header_indent(text, parent), header_indent(text, child));
      if (!step.empty()) return step;
    }
  }
  return "";
}

bool is_sibling(const KeyPath& candidate, const KeyPath& path, size_t vary_at) {
  if (candidate.size() != path.size() || candidate == path) return false;
  for (size_t i = 0; i < path.size(); ++i)
    if (i != vary_at && candidate[i] != path[i]) return false;
  return true;
}

// The header with the longest path that is a proper prefix of `path`, if any.
const TomlHeader* nearest_ancestor(const TomlLayout& layout, const KeyPath& path) {
  const TomlHeader* best = nullptr;
  for (const auto& header : layout.headers) {
    if (header.array || header.path.size() >= path.size()) continue;
    if (!std::equal(header.path.begin(), header.path.end(), path.begin())) continue;
    if (!best || header.path.size() > best->path.size()) best = &header;
  }
  return best;
}

// The first quote in header `header`'s key, or 0.
char header_quote(std::string_view text, const TomlHeader& header) {
  const std::string_view line = text.substr(header.line_begin, header.line_end - header.line_begin);
  const size_t at = line.find_first_of("\"'#");
  return at == std::string_view::npos || line[at] == '#' ? '\0' : line[at];
}

size_t line_break_before(std::string_view text, size_t end) {
  if (end >= 2 && text.substr(end - 2, 2) == "\r\n") return 2;
  return end >= 1 && text[end - 1] == '\n' ? 1 : 0;
}

}  // namespace

std::string render_addition(std::optional<int64_t> version, const std::vector<NewTable>& tables,
                            const std::string& newline) {
  std::string out;
  if (version) out += "version = " + std::to_string(*version) + newline;
  for (const auto& table : tables) {
    if (!out.empty()) out += newline;
    const TableStyle& style = table.style;
    out += style.header_indent + "[" + render_key(table.path, style.key_quote) + "]" + newline;
    for (const auto& [key, value] : table.entries)
      out += style.key_indent + render_key(key, style.key_quote) + " = " + value + newline;
  }
  return out;
}

TableStyle new_table_style(std::string_view text, const TomlLayout& layout, const KeyPath& path,
                           size_t vary_at) {
  for (size_t i = 0; i < layout.headers.size(); ++i) {
    const TomlHeader& header = layout.headers[i];
    if (header.array || !is_sibling(header.path, path, vary_at)) continue;
    return {header_indent(text, header), section_key_indent(text, layout, i),
            key_quote_style(text, layout, i), value_quote_style(text, layout, i)};
  }
  TableStyle style;
  const TomlHeader* ancestor = nearest_ancestor(layout, path);
  if (ancestor) {
    style.header_indent = header_indent(text, *ancestor);
    const std::string step = nesting_step(text, layout);
    for (size_t level = ancestor->path.size(); level < path.size(); ++level)
      style.header_indent += step;
  }
  style.key_indent = style.header_indent + key_step(text, layout);
  const auto ancestor_index =
      ancestor ? std::optional<size_t>(static_cast<size_t>(ancestor - layout.headers.data()))
               : std::nullopt;
  style.key_quote = key_quote_style(text, layout, ancestor_index);
  style.value_quote = value_quote_style(text, layout, ancestor_index);
  return style;
}

char key_quote_style(std::string_view text, const TomlLayout& layout,
                     std::optional<size_t> header_index) {
  if (header_index)
    if (const char quote = header_quote(text, layout.headers[*header_index])) return quote;
  for (const auto& header : layout.headers)
    if (const char quote = header_quote(text, header)) return quote;
  return '"';
}

char value_quote_style(std::string_view text, const TomlLayout& layout,
                       std::optional<size_t> header_index) {
  auto quote_of = [&](const TomlKeyValue& pair) {
    const char first = text[pair.value_begin];
    return first == '"' || first == '\'' ? first : '\0';
  };
  if (header_index)
    for (const auto& pair : layout.keys)
      if (pair.header == static_cast<int>(*header_index) && quote_of(pair)) return quote_of(pair);
  for (const auto& pair : layout.keys)
    if (quote_of(pair)) return quote_of(pair);
  return '"';
}

std::string section_key_indent(std::string_view text, const TomlLayout& layout,
                               size_t header_index) {
  if (const TomlKeyValue* pair = first_pair_in_section(layout, header_index))
    return pair_indent(text, *pair);
  return header_indent(text, layout.headers[header_index]) + key_step(text, layout);
}

std::string replace_bytes(std::string_view text, size_t begin, size_t end, std::string_view with) {
  std::string out(text.substr(0, begin));
  out += with;
  out += text.substr(end);
  return out;
}

std::string insert_line_after(std::string_view text, size_t line_end, std::string_view line,
                              std::string_view newline) {
  if (line_end == text.size() && line_break_before(text, line_end) == 0 && !text.empty())
    return std::string(text) + std::string(newline) + std::string(line);
  return replace_bytes(text, line_end, line_end, std::string(line) + std::string(newline));
}

std::string delete_line(std::string_view text, size_t line_begin, size_t line_end) {
  if (line_end == text.size() && line_break_before(text, line_end) == 0)
    line_begin -= line_break_before(text, line_begin);
  return replace_bytes(text, line_begin, line_end, "");
}

std::string append_block(std::string_view text, std::string_view block, std::string_view newline) {
  if (text.empty()) return std::string(block);
  return std::string(text) + std::string(newline) + std::string(block);
}

std::string erase_tail(std::string_view text, size_t begin) {
  return std::string(text.substr(0, begin - line_break_before(text, begin)));
}

std::string remove_lone_version(const std::string& text) {
  const TomlLayout layout = scan_toml_layout(text);
  if (!layout.headers.empty() || layout.keys.size() != 1 ||
      layout.keys[0].path != KeyPath{"version"})
    return text;
  if (text.find_first_not_of(" \t\r\n", layout.keys[0].line_end) != std::string::npos) return text;
  return erase_tail(text, layout.keys[0].line_begin);
}

}  // namespace gns::config::containerd_text
