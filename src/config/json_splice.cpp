#include "json_splice.hpp"

#include <algorithm>

namespace gns::config::splice {
namespace {

std::size_t skip_space(std::string_view text, std::size_t pos) {
  while (pos < text.size() && is_space(text[pos])) ++pos;
  return pos;
}

// `pos` is at the opening quote; returns the offset just past the closing one.
std::size_t string_end(std::string_view text, std::size_t pos) {
  for (++pos; text[pos] != '"'; ++pos)
    if (text[pos] == '\\') ++pos;
  return pos + 1;
}

// Brackets inside strings do not count, hence the string-aware walk.
std::size_t value_end(std::string_view text, std::size_t pos) {
  if (text[pos] == '"') return string_end(text, pos);
  if (text[pos] != '{' && text[pos] != '[') {
    while (pos < text.size() && !is_space(text[pos]) && text[pos] != ',' && text[pos] != '}' &&
           text[pos] != ']')
      ++pos;
    return pos;
  }
  for (int depth = 0;;) {
    const char c = text[pos];
    if (c == '"') {
      pos = string_end(text, pos);
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return pos + 1;
    ++pos;
  }
}

std::string decode_key(std::string_view token) {
  if (token.find('\\') == token.npos) return std::string(token.substr(1, token.size() - 2));
  return Json::parse(token).get<std::string>();
}

// Where and how a member (and the object inside it, if any) is written.
struct Layout {
  bool multiline = true;
  std::string indent;  // the member's own indentation
  std::string pad;     // inside the braces of a one-line object
  std::string sep;     // after the commas of a one-line object
  std::string colon = ": ";
};

std::string_view space_before(std::string_view text, std::size_t pos) {
  std::size_t start = pos;
  while (start > 0 && is_space(text[start - 1])) --start;
  return text.substr(start, pos - start);
}

std::string line_indent(std::string_view text, std::size_t pos) {
  const std::size_t newline = pos == 0 ? text.npos : text.rfind('\n', pos - 1);
  const std::size_t start = newline == text.npos ? 0 : newline + 1;
  std::size_t end = start;
  while (end < pos && (text[end] == ' ' || text[end] == '\t')) ++end;
  return std::string(text.substr(start, end - start));
}

std::string colon_of(std::string_view text, const Member& m, const std::string& fallback) {
  auto colon = text.substr(m.key_end, m.value_begin - m.key_end);
  return colon.find('\n') == colon.npos ? std::string(colon) : fallback;
}

// The first top-level member on its own line is one level in; when those sit flush left, the
// first indented line of the file (a nested member) is; else two spaces, the common choice.
std::string detect_unit(std::string_view text, const Object& top) {
  for (const Member& m : top.members) {
    const auto before = space_before(text, m.key_begin);
    const auto newline = before.rfind('\n');
    if (newline == before.npos) continue;
    if (newline + 1 < before.size()) return std::string(before.substr(newline + 1));
    break;
  }
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = start;
    while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) ++end;
    if (end > start && end < text.size() && text[end] != '\n' && text[end] != '\r')
      return std::string(text.substr(start, end - start));
    const std::size_t newline = text.find('\n', end);
    start = newline == text.npos ? text.size() : newline + 1;
  }
  return "  ";
}

std::string render(const Json& value, const Layout& at, const Format& f);

std::string member_text(const std::string& key, const Json& value, const Layout& at,
                        const Format& f) {
  return Json(key).dump() + at.colon + render(value, at, f);
}

// Objects in the file's layout; everything else we write (strings, booleans, []) is short.
std::string render(const Json& value, const Layout& at, const Format& f) {
  if (!value.is_object() || value.empty()) return value.dump();
  Layout inner = at;
  inner.indent += f.unit;
  std::string out = "{";
  for (auto it = value.begin(); it != value.end(); ++it) {
    const bool first = it == value.begin();
    if (at.multiline)
      out += (first ? "" : ",") + f.newline + inner.indent;
    else
      out += first ? at.pad : "," + at.sep;
    out += member_text(it.key(), it.value(), inner, f);
  }
  return out + (at.multiline ? f.newline + at.indent : at.pad) + "}";
}

// How the members of non-empty `object` are laid out: on their own lines if its last member is;
// else inline, spaced as the file is. With one member the space after a comma is unknown: a
// `"key": value` writer usually also writes `, ` (as python's json.dumps does).
Layout layout_of(std::string_view text, const Object& object, const Format& f) {
  const Member& last = object.members.back();
  const auto before = space_before(text, last.key_begin);
  const auto newline = before.rfind('\n');
  Layout l;
  l.multiline = newline != before.npos;
  l.indent =
      l.multiline ? std::string(before.substr(newline + 1)) : line_indent(text, last.key_begin);
  l.colon = colon_of(text, last, f.colon);
  const auto first = space_before(text, object.members.front().key_begin);
  l.pad = first.find('\n') == first.npos ? std::string(first) : "";
  if (object.members.size() > 1)
    l.sep = before;
  else
    l.sep = l.pad.empty() && l.colon.ends_with(' ') ? " " : l.pad;
  return l;
}

// An empty object has no siblings to copy: one level deeper than the line of its '{', or inline
// in a one-line file.
void insert_into_empty(std::string& text, const Object& object, const std::string& key,
                       const Json& value, const Format& f) {
  const auto inside =
      std::string_view(text).substr(object.open + 1, object.close - object.open - 1);
  const std::string outer = line_indent(text, object.open);
  const Layout l{f.multiline || inside.find('\n') != inside.npos, outer + f.unit, f.pad, f.sep,
                 f.colon};
  const std::string member = member_text(key, value, l, f);
  text.replace(
      object.open + 1, inside.size(),
      l.multiline ? f.newline + l.indent + member + f.newline + outer : l.pad + member + l.pad);
}

}  // namespace

std::optional<std::size_t> Object::index_of(std::string_view key) const {
  for (std::size_t i = 0; i < members.size(); ++i)
    if (members[i].key == key) return i;
  return std::nullopt;
}

const Member* Object::find(std::string_view key) const {
  const auto i = index_of(key);
  return i ? &members[*i] : nullptr;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_blank(std::string_view text) {
  if (text.starts_with(k_bom)) text.remove_prefix(k_bom.size());
  return std::all_of(text.begin(), text.end(), is_space);
}

LineColumn line_column(std::string_view text, std::size_t offset) {
  LineColumn at;
  offset = std::min(offset, text.size());
  for (std::size_t i = text.starts_with(k_bom) ? k_bom.size() : 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++at.line;
      at.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {  // not a continuation
      ++at.column;
    }
  }
  return at;
}

std::size_t top_start(std::string_view text) {
  return skip_space(text, text.starts_with(k_bom) ? k_bom.size() : 0);
}

Object scan_object(std::string_view text, std::size_t open) {
  Object object{open, 0, {}};
  std::size_t pos = skip_space(text, open + 1);
  while (text[pos] == '"') {
    Member m;
    m.key_begin = pos;
    m.key_end = string_end(text, pos);
    m.key = decode_key(text.substr(m.key_begin, m.key_end - m.key_begin));
    m.value_begin = skip_space(text, skip_space(text, m.key_end) + 1);  // past the ':'
    m.value_end = value_end(text, m.value_begin);
    pos = skip_space(text, m.value_end);
    object.members.push_back(std::move(m));
    if (text[pos] == ',') pos = skip_space(text, pos + 1);
  }
  object.close = pos;
  return object;
}

Object scan_top(std::string_view text) { return scan_object(text, top_start(text)); }

Json value_of(std::string_view text, const Member& m) {
  return Json::parse(text.substr(m.value_begin, m.value_end - m.value_begin));
}

Format detect_format(std::string_view text) {
  Format f;
  const Object top = scan_top(text);
  const std::size_t newline = text.find('\n');
  if (newline != text.npos && newline > 0 && text[newline - 1] == '\r') f.newline = "\r\n";
  f.unit = detect_unit(text, top);
  if (top.members.empty()) return f;
  const Layout l = layout_of(text, top, f);
  f.colon = l.colon;
  f.pad = l.pad;
  f.sep = l.sep;
  f.multiline =
      space_before(text, top.members.front().key_begin).find('\n') != std::string_view::npos;
  return f;
}

std::string fresh_document(std::string_view original, const Json& doc) {
  Format f;
  if (original.find("\r\n") != original.npos) f.newline = "\r\n";
  const std::string bom = original.starts_with(k_bom) ? std::string(k_bom) : "";
  return bom + render(doc, Layout{}, f) + f.newline;
}

void insert_member(std::string& text, const Object& object, const std::string& key,
                   const Json& value, const Format& f) {
  if (object.members.empty()) return insert_into_empty(text, object, key, value, f);
  const Layout l = layout_of(text, object, f);
  text.insert(object.members.back().value_end,
              "," + (l.multiline ? f.newline + l.indent : l.sep) + member_text(key, value, l, f));
}

void replace_value(std::string& text, const Object& object, const Member& m, const Json& value,
                   const Format& f) {
  Layout l = layout_of(text, object, f);
  l.indent = line_indent(text, m.key_begin);
  l.colon = colon_of(text, m, f.colon);
  text.replace(m.value_begin, m.value_end - m.value_begin, render(value, l, f));
}

void erase_member(std::string& text, const Object& object, std::size_t i) {
  const auto& m = object.members;
  if (m.size() == 1)
    text.erase(object.open + 1, object.close - object.open - 1);
  else if (i == 0)
    text.erase(m[0].key_begin, m[1].key_begin - m[0].key_begin);
  else
    text.erase(m[i - 1].value_end, m[i].value_end - m[i - 1].value_end);
}

void set_member(std::string& text, const Object& object, const std::string& key, const Json& value,
                const Format& f) {
  const Member* m = object.find(key);
  if (!m)
    insert_member(text, object, key, value, f);
  else if (value_of(text, *m) != value)
    replace_value(text, object, *m, value, f);
}

}  // namespace gns::config::splice
