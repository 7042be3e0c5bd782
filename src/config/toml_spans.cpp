#include "toml_spans.hpp"

#include <algorithm>
#include <cstdint>

#include "../error.hpp"

namespace gns::config {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

void append_utf8(std::string& out, uint32_t code_point) {
  auto byte = [](uint32_t v) { return static_cast<char>(static_cast<unsigned char>(v)); };
  if (code_point < 0x80) {
    out += byte(code_point);
  } else if (code_point < 0x800) {
    out += byte(0xC0 | (code_point >> 6));
    out += byte(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += byte(0xE0 | (code_point >> 12));
    out += byte(0x80 | ((code_point >> 6) & 0x3F));
    out += byte(0x80 | (code_point & 0x3F));
  } else {
    out += byte(0xF0 | (code_point >> 18));
    out += byte(0x80 | ((code_point >> 12) & 0x3F));
    out += byte(0x80 | ((code_point >> 6) & 0x3F));
    out += byte(0x80 | (code_point & 0x3F));
  }
}

// A "basic" TOML string, with the escapes TOML requires and no others.
std::string render_basic_string(std::string_view value) {
  static const char* const k_hex = "0123456789ABCDEF";
  std::string out = "\"";
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (byte < 0x20 || byte == 0x7F) {
          out += "\\u00";
          out += k_hex[byte >> 4];
          out += k_hex[byte & 0xF];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Walks valid TOML once, recording where headers and key/value pairs are. It only needs to
// tell the kinds of things apart (strings, arrays, inline tables, other scalars): toml++ has
// already checked that the text is valid, so values other than strings are skipped by their
// delimiters.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : m_text(text) {
    // A byte order mark (from a Windows editor) is no part of the first line's key.
    if (text.starts_with("\xEF\xBB\xBF")) m_pos = 3;
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') m_line_starts.push_back(i + 1);
    const size_t first_newline = text.find('\n');
    if (first_newline != std::string_view::npos && first_newline > 0 &&
        text[first_newline - 1] == '\r')
      m_layout.newline = "\r\n";
  }

  TomlLayout run() {
    while (m_pos < m_text.size()) scan_line();
    return std::move(m_layout);
  }

 private:
  char peek(size_t ahead = 0) const {
    return m_pos + ahead < m_text.size() ? m_text[m_pos + ahead] : '\0';
  }
  bool at(std::string_view s) const { return m_text.substr(m_pos, s.size()) == s; }
  void skip_blanks() {
    while (m_pos < m_text.size() && is_blank(m_text[m_pos])) ++m_pos;
  }

  [[noreturn]] void lost(const char* what) const {
    throw Error("cannot follow the TOML layout (" + std::string(what) + ") at line " +
                std::to_string(line_of(m_pos)) + "; this is a bug in gpu-node-setup");
  }

  unsigned line_of(size_t offset) const {
    auto it = std::upper_bound(m_line_starts.begin(), m_line_starts.end(), offset);
    return static_cast<unsigned>(it - m_line_starts.begin());
  }
  unsigned column_of(size_t offset) const {
    return static_cast<unsigned>(offset - m_line_starts[line_of(offset) - 1] + 1);
  }

  // After a header or a pair: blanks, an optional comment, then the newline (or the end).
  void finish_line() {
    skip_blanks();
    if (peek() == '#')
      while (m_pos < m_text.size() && m_text[m_pos] != '\n' && !at("\r\n")) ++m_pos;
    if (at("\r\n")) {
      m_pos += 2;
    } else if (peek() == '\n') {
      ++m_pos;
    } else if (m_pos < m_text.size()) {
      lost("expected the end of the line");
    }
  }

  void scan_line() {
    const size_t line_begin = m_pos;
    skip_blanks();
    const char c = peek();
    if (c == '[') return scan_header(line_begin);
    if (c == '#' || c == '\n' || c == '\r' || m_pos >= m_text.size()) return finish_line();
    scan_pair_line(line_begin);
  }

  void scan_header(size_t line_begin) {
    TomlHeader header;
    header.line_begin = line_begin;
    header.indent = m_pos - line_begin;
    header.line = line_of(m_pos);
    header.array = at("[[");
    m_pos += header.array ? 2 : 1;
    header.path = parse_key();
    skip_blanks();
    if (!at(header.array ? "]]" : "]")) lost("expected the end of a table header");
    m_pos += header.array ? 2 : 1;
    finish_line();
    header.line_end = m_pos;
    m_section = header.path;
    m_header = static_cast<int>(m_layout.headers.size());
    m_layout.headers.push_back(std::move(header));
  }

  void scan_pair_line(size_t line_begin) {
    const size_t index = scan_pair(m_section, false);
    finish_line();
    TomlKeyValue& pair = m_layout.keys[index];
    pair.line_begin = line_begin;
    pair.line_end = m_pos;
  }

  // Reads `key = value` below `prefix`; returns the index of its record.
  size_t scan_pair(const KeyPath& prefix, bool in_inline_table) {
    TomlKeyValue pair;
    pair.key_begin = m_pos;
    pair.line = line_of(m_pos);
    pair.column = column_of(m_pos);
    pair.section_depth = prefix.size();
    pair.header = m_header;
    pair.in_inline_table = in_inline_table;
    pair.path = prefix;
    for (auto& part : parse_key()) pair.path.push_back(std::move(part));
    skip_blanks();
    if (peek() != '=') lost("expected '='");
    ++m_pos;
    skip_blanks();
    pair.value_begin = m_pos;
    pair.value_is_inline_table = peek() == '{';
    const KeyPath path = pair.path;
    const size_t index = m_layout.keys.size();
    m_layout.keys.push_back(std::move(pair));
    skip_value(&path);
    m_layout.keys[index].value_end = m_pos;
    return index;
  }

  KeyPath parse_key() {
    KeyPath parts;
    for (;;) {
      skip_blanks();
      parts.push_back(parse_key_part());
      skip_blanks();
      if (peek() != '.') return parts;
      ++m_pos;
    }
  }

  std::string parse_key_part() {
    if (peek() == '"') return parse_basic_key();
    if (peek() == '\'') {
      const size_t close = m_text.find('\'', m_pos + 1);
      if (close == std::string_view::npos) lost("unterminated literal key");
      std::string part(m_text.substr(m_pos + 1, close - m_pos - 1));
      m_pos = close + 1;
      return part;
    }
    const size_t begin = m_pos;
    while (m_pos < m_text.size() && is_bare_key_char(m_text[m_pos])) ++m_pos;
    if (m_pos == begin) lost("expected a key");
    return std::string(m_text.substr(begin, m_pos - begin));
  }

  std::string parse_basic_key() {
    std::string part;
    for (++m_pos; m_pos < m_text.size() && m_text[m_pos] != '"'; ++m_pos) {
      if (m_text[m_pos] != '\\') {
        part += m_text[m_pos];
        continue;
      }
      const char e = peek(1);
      m_pos += 1;
      switch (e) {
        case 'b': part += '\b'; break;
        case 't': part += '\t'; break;
        case 'n': part += '\n'; break;
        case 'f': part += '\f'; break;
        case 'r': part += '\r'; break;
        case 'u':
        case 'U': part_add_code_point(part, e == 'u' ? 4 : 8); break;
        default: part += e; break;
      }
    }
    if (m_pos >= m_text.size()) lost("unterminated quoted key");
    ++m_pos;
    return part;
  }

  // At the 'u'/'U' of an escape: appends the code point of the next `digits` hex digits.
  void part_add_code_point(std::string& part, size_t digits) {
    const std::string hex(m_text.substr(m_pos + 1, digits));
    append_utf8(part, static_cast<uint32_t>(std::stoul(hex, nullptr, 16)));
    m_pos += digits;
  }

  // Skips one value. `path` is the key holding it; pairs inside an inline table are recorded
  // under it, while values inside arrays are not (they have no key path).
  void skip_value(const KeyPath* path) {
    if (at("\"\"\"") || at("'''")) return skip_multiline_string(m_text.substr(m_pos, 3));
    const char c = peek();
    if (c == '"') return skip_basic_string();
    if (c == '\'') return skip_literal_string();
    if (c == '[') return skip_array();
    if (c == '{') return skip_inline_table(path);
    const size_t begin = m_pos;
    while (m_pos < m_text.size() &&
           std::string_view(",]}#\r\n").find(m_text[m_pos]) == std::string_view::npos)
      ++m_pos;
    while (m_pos > begin && is_blank(m_text[m_pos - 1])) --m_pos;
    if (m_pos == begin) lost("expected a value");
  }

  void skip_basic_string() {
    for (++m_pos; m_pos < m_text.size(); ++m_pos) {
      if (m_text[m_pos] == '\\') {
        ++m_pos;
      } else if (m_text[m_pos] == '"') {
        ++m_pos;
        return;
      }
    }
    lost("unterminated string");
  }

  void skip_literal_string() {
    const size_t close = m_text.find('\'', m_pos + 1);
    if (close == std::string_view::npos) lost("unterminated literal string");
    m_pos = close + 1;
  }

  // `delimiter` is """ or '''; up to two more quotes right before the closing delimiter are
  // part of the string.
  void skip_multiline_string(std::string_view delimiter) {
    const bool basic = delimiter[0] == '"';
    for (m_pos += 3; m_pos < m_text.size(); ++m_pos) {
      if (basic && m_text[m_pos] == '\\') {
        ++m_pos;
      } else if (at(delimiter)) {
        m_pos += 3;
        for (int extra = 0; extra < 2 && peek() == delimiter[0]; ++extra) ++m_pos;
        return;
      }
    }
    lost("unterminated multi-line string");
  }

  // Blanks, newlines and comments, which arrays may hold between their values.
  void skip_array_filler() {
    for (;;) {
      skip_blanks();
      if (peek() == '#') {
        while (m_pos < m_text.size() && m_text[m_pos] != '\n') ++m_pos;
      } else if (peek() == '\n' || at("\r\n")) {
        m_pos += peek() == '\n' ? 1u : 2u;
      } else {
        return;
      }
    }
  }

  void skip_array() {
    ++m_pos;
    for (;;) {
      skip_array_filler();
      if (peek() == ']') break;
      if (m_pos >= m_text.size()) lost("unterminated array");
      skip_value(nullptr);
      skip_array_filler();
      if (peek() == ',') ++m_pos;
    }
    ++m_pos;
  }

  void skip_inline_table(const KeyPath* path) {
    ++m_pos;
    for (;;) {
      skip_array_filler();
      if (peek() == '}') break;
      if (m_pos >= m_text.size()) lost("unterminated inline table");
      if (path) {
        scan_pair(*path, true);
      } else {
        parse_key();
        skip_blanks();
        ++m_pos;
        skip_blanks();
        skip_value(nullptr);
      }
      skip_array_filler();
      if (peek() == ',') ++m_pos;
    }
    ++m_pos;
  }

  std::string_view m_text;
  size_t m_pos = 0;
  std::vector<size_t> m_line_starts{0};
  TomlLayout m_layout;
  KeyPath m_section;
  int m_header = -1;
};

}  // namespace

size_t TomlLayout::section_end(size_t index, size_t text_size) const {
  return index + 1 < headers.size() ? headers[index + 1].line_begin : text_size;
}

TomlLayout scan_toml_layout(std::string_view text) { return Scanner(text).run(); }

std::string render_key(const KeyPath& path, char quote) {
  std::string out;
  for (const auto& part : path) {
    if (!out.empty()) out += '.';
    const bool bare = !part.empty() && std::all_of(part.begin(), part.end(), is_bare_key_char);
    out += bare ? part : render_string(part, quote);
  }
  return out;
}

std::string render_string(std::string_view value, char quote) {
  const bool literal_ok = std::none_of(value.begin(), value.end(), [](char c) {
    return c == '\'' || (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F;
  });
  if (quote == '\'' && literal_ok) return "'" + std::string(value) + "'";
  return render_basic_string(value);
}

}  // namespace gns::config
