#include "containerd_imports.hpp"

#include <fnmatch.h>

#include <filesystem>

#include "../error.hpp"
#include "containerd_text.hpp"

namespace gns::config::containerd_imports {

using namespace containerd_toml;

namespace {

// One string of an array, as written: its bytes [begin, end) and the comma after it, if any.
struct Element {
  size_t begin = 0;
  size_t end = 0;
  std::optional<size_t> comma;
};

bool is_blank(std::string_view bytes) {
  return bytes.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

size_t line_start(std::string_view text, size_t at) {
  const size_t newline = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
  return newline == std::string_view::npos ? 0 : newline + 1;
}

// Just past the line break of the line holding `at` (the end of the text when it has none).
size_t next_line(std::string_view text, size_t at) {
  const size_t newline = text.find('\n', at);
  return newline == std::string_view::npos ? text.size() : newline + 1;
}

// Where the string starting at `at` ends (just past its closing quote).
size_t string_end(std::string_view text, size_t at) {
  const char quote = text[at];
  const std::string triple(3, quote);
  const bool multi_line = text.substr(at, 3) == triple;
  size_t i = at + (multi_line ? 3 : 1);
  for (; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;
    } else if (multi_line && text.substr(i, 3) == triple) {
      size_t end = i + 3;  // a closing """ may follow up to two quotes of the string
      while (end < text.size() && end < i + 5 && text[end] == quote) ++end;
      return end;
    } else if (!multi_line && text[i] == quote) {
      return i + 1;
    }
  }
  throw Error("cannot find the end of a string in `imports`; this is a bug in gpu-node-setup");
}

// The strings of the array written at [begin, end) (its brackets included).
std::vector<Element> scan_array(std::string_view text, size_t begin, size_t end) {
  std::vector<Element> elements;
  for (size_t i = begin + 1; i + 1 < end;) {
    const char c = text[i];
    if (c == '#') {
      i = next_line(text, i);
    } else if (c == ',') {
      if (!elements.empty()) elements.back().comma = i;
      ++i;
    } else if (c == '"' || c == '\'') {
      elements.push_back({i, string_end(text, i), std::nullopt});
      i = elements.back().end;
    } else {
      ++i;  // blanks and line breaks
    }
  }
  return elements;
}

// The `imports` pair: top-level only, where containerd reads it.
const TomlKeyValue* imports_pair(const Document& doc) {
  for (const auto& pair : doc.layout.keys)
    if (pair.header < 0 && !pair.in_inline_table && pair.path == KeyPath{"imports"}) return &pair;
  return nullptr;
}

const TomlKeyValue* last_top_level_key(const Document& doc) {
  const TomlKeyValue* last = nullptr;
  for (const auto& pair : doc.layout.keys)
    if (pair.header < 0 && !pair.in_inline_table) last = &pair;
  return last;
}

// `text` with `with` put in at `at`; insertions apply back to front.
std::string insert_all(std::string text, std::vector<std::pair<size_t, std::string>> inserts) {
  for (auto it = inserts.rbegin(); it != inserts.rend(); ++it) text.insert(it->first, it->second);
  return text;
}

// `quoted` added after the last of `elements`, in the array's layout.
std::string append_element(const Document& doc, const TomlKeyValue& pair,
                           const std::vector<Element>& elements, const std::string& quoted) {
  const std::string_view text = doc.text;
  if (elements.empty())
    return containerd_text::replace_bytes(text, pair.value_begin + 1, pair.value_begin + 1, quoted);
  const Element& last = elements.back();
  const size_t after = last.comma ? *last.comma + 1 : last.end;
  const bool one_per_line =
      text.substr(after, pair.value_end - 1 - after).find('\n') != std::string_view::npos;
  if (!one_per_line) return containerd_text::replace_bytes(text, last.end, last.end, ", " + quoted);
  const size_t start = line_start(text, last.begin);
  const std::string indent(text.substr(start, last.begin - start));
  const std::string line =
      (is_blank(indent) ? indent : "  ") + quoted + (last.comma ? "," : "") + doc.layout.newline;
  std::vector<std::pair<size_t, std::string>> inserts;
  if (!last.comma) inserts.emplace_back(last.end, ",");
  inserts.emplace_back(next_line(text, after), line);
  return insert_all(std::string(text), std::move(inserts));
}

// `text` without the element `index` of `elements`, undoing append_element.
std::string remove_element(std::string_view text, const TomlKeyValue& pair,
                           const std::vector<Element>& elements, size_t index) {
  const Element& element = elements[index];
  const size_t after = element.comma ? *element.comma + 1 : element.end;
  const size_t start = line_start(text, element.begin);
  const size_t end = next_line(text, after);
  std::string out(text);
  if (end <= pair.value_end && is_blank(text.substr(start, element.begin - start)) &&
      is_blank(text.substr(after, end - after))) {
    out.erase(start, end - start);  // a line of its own
    const bool was_last = index + 1 == elements.size();
    if (was_last && !element.comma && index > 0) out.erase(*elements[index - 1].comma, 1);
  } else if (index > 0) {
    out.erase(elements[index - 1].end, element.end - elements[index - 1].end);
  } else if (index + 1 < elements.size()) {
    out.erase(element.begin, elements[index + 1].begin - element.begin);
  } else {
    out.erase(element.begin, after - element.begin);
  }
  return out;
}

// Throws Error (a bug) unless `text` means `doc` with imports `wanted` (none: no key).
void check_imports(const Document& doc, const std::string& text,
                   const std::optional<std::vector<std::string>>& wanted) {
  const toml::table actual = parse_written(text, doc.path);
  toml::table expected = doc.root;
  if (doc.blank) expected.insert_or_assign("version", doc.version);
  expected.erase("imports");
  // A file add_import created from a blank one goes back to blank, version line and all.
  if (!actual.contains("version") && expected.size() == 1) expected.erase("version");
  if (wanted) {
    toml::array array;
    for (const auto& entry : *wanted) array.push_back(entry);
    expected.insert_or_assign("imports", std::move(array));
  }
  require_same(actual, expected, doc.path);
}

}  // namespace

bool covers(std::string_view entry, const std::string& config_path, const std::string& file) {
  namespace fs = std::filesystem;
  fs::path path = fs::path(entry).lexically_normal();
  if (path.is_relative()) path = (fs::path(config_path).parent_path() / path).lexically_normal();
  std::string pattern = path.string();
  while (pattern.size() > 1 && pattern.back() == '/') pattern.pop_back();
  const std::string target = fs::path(file).lexically_normal().string();
  if (pattern.find('*') == std::string::npos) return pattern == target;
  return ::fnmatch(pattern.c_str(), target.c_str(), FNM_PATHNAME) == 0;
}

std::vector<std::string> entries(const Document& doc) {
  const toml::node* imports = doc.root.get("imports");
  if (!imports) return {};
  const toml::array* array = imports->as_array();
  if (!array) throw_at(doc, imports, "`imports` must be an array of file paths");
  std::vector<std::string> out;
  for (const auto& entry : *array) {
    if (!entry.is_string()) throw_at(doc, &entry, "`imports` must hold only file paths (strings)");
    out.push_back(*entry.value<std::string>());
  }
  return out;
}

ImportEdit add_import(const Document& doc, const std::string& file) {
  std::vector<std::string> wanted = entries(doc);
  for (const auto& entry : wanted)
    if (covers(entry, doc.path, file)) return {std::string(doc.text), ContainerdImport::nothing};
  const std::string& newline = doc.layout.newline;
  const char quote = containerd_text::value_quote_style(doc.text, doc.layout, std::nullopt);
  ImportEdit edit;
  if (doc.blank) {
    edit.added = ContainerdImport::file;
    edit.text = containerd_text::append_block(doc.text,
                                              "version = " + std::to_string(doc.version) + newline +
                                                  "imports = [" + render_string(file, quote) + "]" +
                                                  newline,
                                              newline);
  } else if (const TomlKeyValue* pair = imports_pair(doc)) {
    const auto elements = scan_array(doc.text, pair->value_begin, pair->value_end);
    const char element_quote = elements.empty() ? quote : doc.text[elements.back().begin];
    edit.added = ContainerdImport::entry;
    edit.text = append_element(doc, *pair, elements, render_string(file, element_quote));
  } else {
    // Drop-in mode needs `version`, a top-level key: there is always one to follow.
    const TomlKeyValue* last = last_top_level_key(doc);
    if (!last) throw Error("a config without top-level keys cannot take `imports`; this is a bug");
    const std::string indent(doc.text.substr(last->line_begin, last->key_begin - last->line_begin));
    edit.added = ContainerdImport::line;
    edit.text = containerd_text::insert_line_after(
        doc.text, last->line_end, indent + "imports = [" + render_string(file, quote) + "]",
        newline);
  }
  wanted.push_back(file);
  check_imports(doc, edit.text, wanted);
  return edit;
}

std::string remove_import(const Document& doc, const std::string& file, ContainerdImport added) {
  // An entry that covered the file before is the user's, even when it names it exactly.
  if (added == ContainerdImport::nothing) return std::string(doc.text);
  std::vector<std::string> wanted = entries(doc);
  const TomlKeyValue* pair = imports_pair(doc);
  size_t index = wanted.size();
  for (size_t i = 0; i < wanted.size(); ++i)
    if (wanted[i] == file) index = i;
  if (!pair || index == wanted.size()) return std::string(doc.text);
  wanted.erase(wanted.begin() + static_cast<std::ptrdiff_t>(index));
  const auto elements = scan_array(doc.text, pair->value_begin, pair->value_end);
  if (elements.size() != wanted.size() + 1)
    throw Error("`imports` in " + doc.path + " was misread; this is a bug in gpu-node-setup");
  std::string text;
  const bool ours = added == ContainerdImport::line || added == ContainerdImport::file;
  if (ours && wanted.empty()) {
    text = containerd_text::delete_line(doc.text, pair->line_begin, pair->line_end);
    if (added == ContainerdImport::file) text = containerd_text::remove_lone_version(text);
    check_imports(doc, text, std::nullopt);
    return text;
  }
  text = remove_element(doc.text, *pair, elements, index);
  check_imports(doc, text, wanted);
  return text;
}

}  // namespace gns::config::containerd_imports
