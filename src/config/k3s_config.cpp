#include "k3s_config.hpp"

// libyaml earns its place here: it is the one YAML 1.1 parser Debian packages for C and C++
// (libyaml-dev; k3s reads config.yaml with a YAML 1.1 parser too), and it works in events
// whose marks say where each node starts and ends, which is what a byte splice needs, and
// where an error is, which is what "path:line:col" needs. A DOM library would re-emit the file.
#include <yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

#include "../error.hpp"

namespace gns::config {
namespace {

constexpr std::string_view k_key = "default-runtime";
constexpr std::string_view k_placeholder = "{{runtime_name}}";

struct Position {
  unsigned line = 0;  // 1-based
  unsigned column = 0;
};

Position position_of(const yaml_mark_t& mark) {
  return {static_cast<unsigned>(mark.line + 1), static_cast<unsigned>(mark.column + 1)};
}

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Where byte `offset` of `text` is: libyaml's reader errors (bad UTF-8) give bytes, not marks.
Position position_at_byte(std::string_view text, size_t offset) {
  Position at{1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n')
      at = {at.line + 1, 1};
    else if (!is_continuation_byte(text[i]))
      ++at.column;
  }
  return at;
}

// libyaml's marks count characters (a CRLF as two); the splices need byte offsets.
class ByteOffsets {
 public:
  explicit ByteOffsets(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i)
      if (!is_continuation_byte(text[i])) m_starts.push_back(i);
    m_starts.push_back(text.size());
  }
  size_t operator()(const yaml_mark_t& mark) const {
    return m_starts[std::min(mark.index, m_starts.size() - 1)];
  }

 private:
  std::vector<size_t> m_starts;
};

// libyaml's parser over `text`, one event at a time; its errors become ConfigError.
class EventReader {
 public:
  EventReader(std::string_view text, const std::string& path) : m_text(text), m_path(path) {
    if (!yaml_parser_initialize(&m_parser)) throw Error("libyaml could not allocate a parser");
    // Always UTF-8, as k3s reads it; ByteOffsets knows no other encoding.
    yaml_parser_set_encoding(&m_parser, YAML_UTF8_ENCODING);
    static const unsigned char k_nothing[1] = {0};  // libyaml wants a pointer even for no input
    const auto* bytes =
        text.empty() ? k_nothing : reinterpret_cast<const unsigned char*>(text.data());
    yaml_parser_set_input_string(&m_parser, bytes, text.size());
  }
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;
  ~EventReader() {
    yaml_event_delete(&m_event);
    yaml_parser_delete(&m_parser);
  }

  const yaml_event_t& next() {
    yaml_event_delete(&m_event);
    if (!yaml_parser_parse(&m_parser, &m_event)) throw error();
    return m_event;
  }

 private:
  ConfigError error() const {
    std::string problem = m_parser.problem ? m_parser.problem : "cannot be read as YAML";
    if (m_parser.error == YAML_READER_ERROR) {
      Position at = position_at_byte(m_text, m_parser.problem_offset);
      return ConfigError(m_path, at.line, at.column, problem + " (config.yaml must be UTF-8)");
    }
    if (m_parser.context) {
      Position context = position_of(m_parser.context_mark);
      problem += " (" + std::string(m_parser.context) + " at line " + std::to_string(context.line) +
                 " column " + std::to_string(context.column) + ")";
    }
    Position at = position_of(m_parser.problem_mark);
    return ConfigError(m_path, at.line, at.column, problem);
  }

  std::string_view m_text;
  const std::string& m_path;
  yaml_parser_t m_parser{};
  yaml_event_t m_event{};
};

// A scalar: its bytes in the text and what it says.
struct ScalarSpan {
  size_t begin = 0;
  size_t end = 0;
  Position at;
  std::string value;
  yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
};

// What an edit needs to know of a config.yaml: its top-level keys, and default-runtime.
struct TopLevel {
  std::vector<std::string> keys;  // in order; "" for a key that is not a scalar
  std::vector<Position> key_positions;
  size_t key_column = 0;  // the indentation of the top-level keys
  std::optional<ScalarSpan> key;
  std::optional<ScalarSpan> value;
  std::optional<Position> document_start;  // an explicit `---`
  std::optional<Position> document_end;    // an explicit `...`
};

// Walks the events of one config.yaml, keeping track of depth, and of whether the next node at
// the top level is a key or a value.
class TopLevelScan {
 public:
  TopLevelScan(std::string_view text, const std::string& path)
      : m_reader(text, path), m_offsets(text), m_path(path) {}

  TopLevel run() {
    int documents = 0;
    for (;;) {
      const yaml_event_t& event = m_reader.next();
      switch (event.type) {
        case YAML_STREAM_END_EVENT: return std::move(m_top);
        case YAML_DOCUMENT_START_EVENT:
          if (++documents > 1)
            fail(event, "holds a second YAML document; k3s reads config.yaml as one");
          if (!event.data.document_start.implicit)
            m_top.document_start = position_of(event.start_mark);
          break;
        case YAML_DOCUMENT_END_EVENT:
          if (!event.data.document_end.implicit) m_top.document_end = position_of(event.start_mark);
          break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
          if (--m_depth == 1) m_at_key = !m_at_key;
          break;
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: on_node(event); break;
        default: break;
      }
    }
  }

 private:
  [[noreturn]] void fail(const yaml_event_t& event, const std::string& what) const {
    Position at = position_of(event.start_mark);
    throw ConfigError(m_path, at.line, at.column, what);
  }

  void on_node(const yaml_event_t& event) {
    if (m_depth == 0)
      on_root(event);
    else if (m_depth == 1)
      m_at_key ? on_key(event) : on_value(event);
    bool opens = event.type == YAML_SEQUENCE_START_EVENT || event.type == YAML_MAPPING_START_EVENT;
    if (opens)
      ++m_depth;
    else if (m_depth == 1)
      m_at_key = !m_at_key;
  }

  void on_root(const yaml_event_t& event) const {
    if (event.type == YAML_MAPPING_START_EVENT) {
      if (event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE)
        fail(event,
             "the top level is a flow mapping ({...}); gpu-node-setup edits config.yaml "
             "line by line and needs one `key: value` per line");
      return;
    }
    const auto& scalar = event.data.scalar;
    bool empty_document = event.type == YAML_SCALAR_EVENT && scalar.length == 0 &&
                          scalar.style == YAML_PLAIN_SCALAR_STYLE && !scalar.anchor && !scalar.tag;
    if (!empty_document)
      fail(event, "the top level is not a mapping (`key: value` lines), which is what k3s reads");
  }

  void on_key(const yaml_event_t& event) {
    if (m_top.keys.empty()) m_top.key_column = event.start_mark.column;
    bool scalar = event.type == YAML_SCALAR_EVENT;
    std::string name = scalar ? std::string(reinterpret_cast<const char*>(event.data.scalar.value),
                                            event.data.scalar.length)
                              : std::string();
    m_top.keys.push_back(name);
    m_top.key_positions.push_back(position_of(event.start_mark));
    m_value_is_ours = name == k_key;
    if (!m_value_is_ours) return;
    if (m_top.key)
      fail(event, "default-runtime is set a second time (first at line " +
                      std::to_string(m_top.key->at.line) + "); k3s would take the last: keep one");
    m_top.key = span_of(event);
  }

  void on_value(const yaml_event_t& event) {
    if (!m_value_is_ours) return;
    const auto& scalar = event.data.scalar;
    bool plain_or_quoted = event.type == YAML_SCALAR_EVENT && !scalar.anchor && !scalar.tag &&
                           (scalar.style == YAML_PLAIN_SCALAR_STYLE ||
                            scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                            scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    if (!plain_or_quoted)
      fail(event,
           "default-runtime's value is not a plain or quoted string (a list, block "
           "scalar, alias, anchor or tag); gpu-node-setup replaces only those");
    m_top.value = span_of(event);
  }

  ScalarSpan span_of(const yaml_event_t& event) const {
    const auto& scalar = event.data.scalar;
    return {m_offsets(event.start_mark), m_offsets(event.end_mark), position_of(event.start_mark),
            std::string(reinterpret_cast<const char*>(scalar.value), scalar.length), scalar.style};
  }

  EventReader m_reader;
  ByteOffsets m_offsets;
  const std::string& m_path;
  TopLevel m_top;
  int m_depth = 0;
  bool m_at_key = true;
  bool m_value_is_ours = false;
};

TopLevel scan(std::string_view text, const std::string& path) {
  return TopLevelScan(text, path).run();
}

// The file's line ending: that of its first line.
std::string line_ending(std::string_view text) {
  size_t newline = text.find('\n');
  return newline != std::string_view::npos && newline > 0 && text[newline - 1] == '\r' ? "\r\n"
                                                                                       : "\n";
}

// True when `value` reads back as the same string unquoted (YAML 1.1 plain scalar rules, kept
// strict: what it cannot tell is quoted).
bool plain_safe(std::string_view value) {
  if (value.empty() || value.front() == ' ' || value.back() == ' ') return false;
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(value.front()) != std::string_view::npos)
    return false;
  return value.find_first_of("\r\n\t") == std::string_view::npos &&
         value.find(": ") == std::string_view::npos && value.find(" #") == std::string_view::npos &&
         value.back() != ':';
}

std::string double_quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// `value` written in `style`, the style of the scalar it replaces.
std::string styled(std::string_view value, yaml_scalar_style_t style) {
  if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE) {
    std::string out = "'";
    for (char c : value) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE || !plain_safe(value)) return double_quoted(value);
  return std::string(value);
}

std::string replace_bytes(std::string_view text, size_t begin, size_t end, std::string_view with) {
  return std::string(text.substr(0, begin)) + std::string(with) + std::string(text.substr(end));
}

// `text` with the value `value` becomes `wanted`. An empty plain value (`default-runtime:`)
// has its mark right after the colon: it gets a space before the new value, and loses it again.
std::string replace_value(std::string_view text, const ScalarSpan& value, std::string_view wanted) {
  bool bare = value.style == YAML_PLAIN_SCALAR_STYLE;
  if (bare && value.begin == value.end && !wanted.empty())
    return replace_bytes(text, value.begin, value.end, " " + styled(wanted, value.style));
  if (bare && wanted.empty()) {
    size_t begin = value.begin;
    if (begin >= 2 && text[begin - 1] == ' ' && text[begin - 2] == ':') --begin;
    return replace_bytes(text, begin, value.end, "");
  }
  return replace_bytes(text, value.begin, value.end, styled(wanted, value.style));
}

// The bytes that put `addition` at the end of `text`: indented like its top-level keys, in its
// line ending; after a last line without a newline, a line break first and none at the end.
std::string appended_bytes(std::string_view text, const std::string& path, const TopLevel& top,
                           std::string_view addition) {
  if (top.document_end)
    throw ConfigError(path, top.document_end->line, top.document_end->column,
                      "ends its YAML document with `...`: a key added after it would start a "
                      "second document; add default-runtime by hand");
  const std::string newline = line_ending(text);
  const std::string indent(top.keys.empty() ? 0 : top.key_column, ' ');
  std::string block;
  for (size_t at = 0; at < addition.size();) {
    size_t end = addition.find('\n', at);
    std::string_view line = addition.substr(at, end - at);
    block += (line.empty() ? std::string() : indent) + std::string(line) + newline;
    at = end + 1;
  }
  if (text.empty() || text.back() == '\n') return block;
  return newline + block.substr(0, block.size() - newline.size());
}

// Where the lines of `appended` still stand whole in `text` around the key at `key_begin`,
// with lines of the operator's after them: [begin, end), or nullopt.
std::optional<std::pair<size_t, size_t>> find_appended_lines(std::string_view text,
                                                             size_t key_begin,
                                                             std::string_view appended) {
  const std::string newline = line_ending(text);
  std::string lines(appended.starts_with(newline) ? appended.substr(newline.size()) : appended);
  if (lines.empty()) return std::nullopt;
  if (!lines.ends_with(newline)) lines += newline;
  for (size_t at = text.find(lines); at != std::string_view::npos; at = text.find(lines, at + 1))
    if ((at == 0 || text[at - 1] == '\n') && at <= key_begin && key_begin < at + lines.size())
      return std::make_pair(at, at + lines.size());
  return std::nullopt;
}

// `text` without the line(s) of the key `top` found (and, for a last line without a newline,
// the line break before it). Throws ConfigError when something else shares them.
std::string delete_key_lines(std::string_view text, const std::string& path, const TopLevel& top) {
  const ScalarSpan& key = *top.key;
  size_t line_begin = key.begin == 0 ? std::string_view::npos : text.rfind('\n', key.begin - 1);
  line_begin = line_begin == std::string_view::npos ? 0 : line_begin + 1;
  size_t eol = text.find('\n', top.value->end);
  std::string_view after =
      text.substr(top.value->end,
                  eol == std::string_view::npos ? std::string_view::npos : eol - top.value->end);
  size_t rest = after.find_first_not_of(" \t\r");
  bool indent_only = text.substr(line_begin, key.begin - line_begin).find_first_not_of(' ') ==
                     std::string_view::npos;
  if (!indent_only || (rest != std::string_view::npos && after[rest] != '#'))
    throw ConfigError(path, key.at.line, key.at.column,
                      "default-runtime shares its line with other text; take it out by hand");
  if (eol != std::string_view::npos)
    return std::string(text.substr(0, line_begin)) + std::string(text.substr(eol + 1));
  size_t cut = line_begin;
  if (cut > 0 && text[cut - 1] == '\n') --cut;
  if (cut > 0 && text[cut - 1] == '\r') --cut;
  return std::string(text.substr(0, cut));
}

// `text` without default-runtime: exactly `appended` when the file still ends with it, else
// those lines where they still stand whole, else the key's own lines.
std::string take_out_key(std::string_view text, const std::string& path, const TopLevel& top,
                         std::string_view appended) {
  size_t key_begin = top.key->begin;
  if (!appended.empty() && text.ends_with(appended) && key_begin >= text.size() - appended.size())
    return std::string(text.substr(0, text.size() - appended.size()));
  if (auto lines = find_appended_lines(text, key_begin, appended))
    return std::string(text.substr(0, lines->first)) + std::string(text.substr(lines->second));
  return delete_key_lines(text, path, top);
}

// Parses `text` again and checks that it holds `keys`, and default-runtime as `wanted`
// (nullopt: absent). Anything else is a bug in the splice, never written.
void check_result(const std::string& text, const std::string& path,
                  const std::vector<std::string>& keys, const std::optional<std::string>& wanted) {
  std::optional<TopLevel> after;
  try {
    after = scan(text, path);
  } catch (const ConfigError&) {
  }
  std::optional<std::string> now;
  if (after && after->value) now = after->value->value;
  if (!after || after->keys != keys || now != wanted)
    throw Error(path +
                ": the edit of default-runtime would change more than that key (a bug in "
                "gpu-node-setup); nothing was written");
}

void check_runtime_name(const std::string& name) {
  static constexpr std::array<std::string_view, 11> k_yaml_words = {
      "y", "n", "yes", "no", "true", "false", "on", "off", "null", "none", "nil"};
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool ok = !name.empty() && std::isalpha(static_cast<unsigned char>(name[0])) &&
            std::all_of(name.begin(), name.end(),
                        [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                                 c == '_' || c == '-';
                        }) &&
            std::find(k_yaml_words.begin(), k_yaml_words.end(), lower) == k_yaml_words.end();
  if (!ok)
    throw Error("runtime name \"" + name +
                "\" cannot be written unquoted as k3s's default-runtime: "
                "use letters, digits, '.', '_' and '-', starting with a letter, and not a YAML "
                "word such as yes or null");
}

}  // namespace

std::string render_k3s_addition(std::string_view template_text, const std::string& template_path,
                                const std::string& runtime_name) {
  check_runtime_name(runtime_name);
  std::string rendered;
  for (size_t at = 0;;) {
    size_t open = template_text.find("{{", at);
    rendered += template_text.substr(at, open - at);
    if (open == std::string_view::npos) break;
    if (template_text.substr(open, k_placeholder.size()) != k_placeholder) {
      Position where = position_at_byte(template_text, open);
      throw ConfigError(template_path, where.line, where.column,
                        "unknown placeholder: this template may use only {{runtime_name}}");
    }
    rendered += runtime_name;
    at = open + k_placeholder.size();
  }
  if (rendered.empty() || rendered.back() != '\n') rendered += '\n';
  TopLevel top = scan(rendered, template_path);
  if (auto marker = top.document_start ? top.document_start : top.document_end)
    throw ConfigError(
        template_path, marker->line, marker->column,
        "holds a document marker (--- or ...): added to config.yaml it would split it "
        "into two documents");
  for (size_t i = 0; i < top.keys.size(); ++i)
    if (top.keys[i] != k_key)
      throw ConfigError(template_path, top.key_positions[i].line, top.key_positions[i].column,
                        "sets `" + top.keys[i] +
                            "`: only default-runtime belongs in what is added to config.yaml");
  if (!top.value || top.value->value != runtime_name)
    throw ConfigError(template_path, 0, 0, "does not set default-runtime to {{runtime_name}}");
  if (top.key_column != 0)
    throw ConfigError(template_path, top.key->at.line, top.key->at.column,
                      "indents default-runtime; it must start its line (it is indented like the "
                      "file's own keys when added)");
  return rendered;
}

std::optional<std::string> k3s_default_runtime(std::string_view text, const std::string& path) {
  TopLevel top = scan(text, path);
  if (!top.value) return std::nullopt;
  return top.value->value;
}

K3sEdit set_k3s_default_runtime(std::string_view original, const std::string& path,
                                const std::string& runtime_name, std::string_view addition) {
  TopLevel top = scan(original, path);
  K3sEdit edit{std::string(original), false, std::nullopt, ""};
  if (top.value) edit.previous_default = top.value->value;
  if (edit.previous_default == runtime_name) return edit;
  std::vector<std::string> keys = top.keys;
  if (top.value) {
    edit.text = replace_value(original, *top.value, runtime_name);
  } else {
    edit.appended = appended_bytes(original, path, top, addition);
    edit.text += edit.appended;
    keys.emplace_back(k_key);
  }
  edit.changed = true;
  check_result(edit.text, path, keys, runtime_name);
  return edit;
}

K3sEdit remove_k3s_default_runtime(std::string_view original, const std::string& path,
                                   const std::string& runtime_name,
                                   const std::optional<std::string>& previous_default,
                                   std::string_view appended) {
  TopLevel top = scan(original, path);
  K3sEdit edit{std::string(original), false, std::nullopt, ""};
  if (top.value) edit.previous_default = top.value->value;
  if (edit.previous_default != runtime_name) return edit;  // changed since: theirs now
  std::vector<std::string> keys = top.keys;
  if (previous_default) {
    edit.text = replace_value(original, *top.value, *previous_default);
  } else {
    edit.text = take_out_key(original, path, top, appended);
    keys.erase(std::find(keys.begin(), keys.end(), k_key));
  }
  edit.changed = edit.text != original;
  check_result(edit.text, path, keys, previous_default);
  return edit;
}

}  // namespace gns::config
