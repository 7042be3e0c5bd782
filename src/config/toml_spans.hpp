#pragma once
// Where things are in a TOML file, in bytes: table headers and key/value pairs with their
// exact spans. toml++ says what a document means; this says where each part of it is written,
// so that an editor can change a few bytes and leave every other byte as the user wrote it
// (STYLE.md 8).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gns::config {

// A key path with its quoting removed: {"plugins", "io.containerd.grpc.v1.cri", "containerd"}.
using KeyPath = std::vector<std::string>;

// One `[table]` or `[[array.of.tables]]` header line.
struct TomlHeader {
  KeyPath path;
  bool array = false;     // `[[...]]`
  size_t line_begin = 0;  // offset of the line's first byte
  size_t line_end = 0;    // offset just past the line's newline (or the end of the text)
  size_t indent = 0;      // bytes of blanks before the `[`
  unsigned line = 0;      // 1-based
};

// One `key = value` pair, at the start of a line or inside an inline table.
struct TomlKeyValue {
  KeyPath path;              // the full path from the root: section path + dotted key
  size_t section_depth = 0;  // how many leading parts of `path` come from the section header
                             // (or, inside an inline table, from the keys that hold it)
  int header = -1;           // index into TomlLayout::headers of its section; -1: the root
  bool in_inline_table = false;
  bool value_is_inline_table = false;
  size_t line_begin = 0;   // offset of the line holding the key
  size_t line_end = 0;     // offset just past the newline of the line where the value ends
  size_t key_begin = 0;    // offset of the key's first byte
  size_t value_begin = 0;  // the value's bytes, quotes and brackets included
  size_t value_end = 0;
  unsigned line = 0;    // 1-based line of the key
  unsigned column = 0;  // 1-based byte column of the key
};

struct TomlLayout {
  std::vector<TomlHeader> headers;  // in file order
  std::vector<TomlKeyValue> keys;   // in file order; an inline table's pairs follow its key
  std::string newline = "\n";       // the file's line ending: "\r\n" when its first one is
  // Offset where header `index`'s section ends: the next header's line, or the end of text.
  size_t section_end(size_t index, size_t text_size) const;
};

// Finds the headers and key/value pairs of `text`. `text` must already be valid TOML (parse it
// with parse_toml first); throws Error if the scanner loses its way, which would be our bug.
TomlLayout scan_toml_layout(std::string_view text);

// `value` written as a TOML string: a 'literal' one when `quote` is '\'' and the value can be
// one, else a "basic" one with the escapes TOML requires.
std::string render_string(std::string_view value, char quote = '"');

// `path` written as a TOML dotted key: bare parts where TOML allows, quoted with `quote` (as
// render_string does) otherwise.
std::string render_key(const KeyPath& path, char quote = '"');

}  // namespace gns::config
