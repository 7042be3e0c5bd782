#include "toml_document.hpp"

#include <optional>

#include "../error.hpp"

namespace gns::config {
namespace {

struct Position {
  unsigned line = 1;
  unsigned column = 1;
};

// Strings that never close, where they open. toml++ reports a multi-line one at the end of
// the file, and a one-line one as an "unescaped control character" (the line break) at the
// end of its line: no help in a long config. containerd (and people) point at the opening
// quotes. A small scan of strings and comments, nothing more.
struct UnclosedStrings {
  std::optional<Position> multiline;  // the multi-line string still open at the end
  std::optional<Position> first_line;  // the first one-line string cut off by its line's end
};

UnclosedStrings find_unclosed_strings(std::string_view text) {
  UnclosedStrings found;
  Position at;
  std::optional<Position> open_at;
  std::string_view open_quote;  // the delimiter of the string we are in, if any
  for (size_t i = 0; i < text.size(); ++i) {
    std::string_view rest = text.substr(i);
    if (open_quote.empty()) {
      if (rest.rfind("\"\"\"", 0) == 0 || rest.rfind("'''", 0) == 0) {
        open_quote = rest.substr(0, 3), open_at = at, i += 2, at.column += 2;
      } else if (text[i] == '"' || text[i] == '\'') {
        open_quote = rest.substr(0, 1), open_at = at;
      } else if (text[i] == '#') {
        while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      }
    } else if (open_quote == "\"" && text[i] == '\\') {
      ++i, ++at.column;  // an escaped character cannot close the string
    } else if (rest.rfind(open_quote, 0) == 0) {
      i += open_quote.size() - 1, at.column += static_cast<unsigned>(open_quote.size() - 1);
      open_quote = {};
    } else if (text[i] == '\n' && open_quote.size() == 1) {
      if (!found.first_line) found.first_line = open_at;
      open_quote = {};  // a one-line string ends at the line's end
    }
    if (text[i] == '\n') at = {at.line + 1, 1};
    else ++at.column;
  }
  if (open_quote.size() == 3) found.multiline = open_at;
  return found;
}

}  // namespace

toml::table parse_toml(std::string_view text, const std::string& path) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    auto where = e.source().begin;
    std::string message(e.description());
    auto unclosed = find_unclosed_strings(text);
    if (unclosed.first_line && unclosed.first_line->line == where.line) {
      where.line = unclosed.first_line->line, where.column = unclosed.first_line->column;
      message = "string opened here is not closed before the end of its line";
    } else if (unclosed.multiline) {
      where.line = unclosed.multiline->line, where.column = unclosed.multiline->column;
      message = "multi-line string opened here is never closed";
    }
    throw ConfigError(path, where.line, where.column, message);
  }
}

}  // namespace gns::config
