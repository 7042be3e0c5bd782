#pragma once
// Byte-preserving edits of a JSON object's members: find where each member of an object sits in
// the text, then insert, replace or erase one member by splicing a few bytes, written in the
// layout the file already has. What the text means is nlohmann's business; every function here
// expects text that nlohmann has already accepted as JSON (daemon_json.cpp checks that first).

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gns::config::splice {

using Json = nlohmann::ordered_json;

// The UTF-8 byte order mark some Windows editors put in front of a file.
inline constexpr std::string_view k_bom = "\xEF\xBB\xBF";

// One "key": value pair of an object, as byte offsets into the text.
struct Member {
  std::string key;  // decoded, so "\u006evidia" is "nvidia"
  std::size_t key_begin = 0, key_end = 0, value_begin = 0, value_end = 0;
};

// An object's braces and members, in the order they appear.
struct Object {
  std::size_t open = 0, close = 0;  // the offsets of '{' and '}'
  std::vector<Member> members;

  // The position of the (first) member named `key` in `members`, if any.
  std::optional<std::size_t> index_of(std::string_view key) const;
  // The (first) member named `key`, or nullptr.
  const Member* find(std::string_view key) const;
};

// A 1-based position as an editor shows it.
struct LineColumn {
  unsigned line = 1, column = 1;
};

// Whether `c` is JSON whitespace (space, tab, CR, LF).
bool is_space(char c);

// Whether `text` holds nothing but JSON whitespace, after an optional BOM.
bool is_blank(std::string_view text);

// The line and column of byte `offset` of `text` (clamped to its end). Columns count UTF-8
// characters, not bytes, and a leading BOM is not counted.
LineColumn line_column(std::string_view text, std::size_t offset);

// The offset of the first token of `text`, past a BOM and whitespace.
std::size_t top_start(std::string_view text);

// The members of the object whose '{' is at `open`; `text` must be valid JSON.
Object scan_object(std::string_view text, std::size_t open);

// The members of the top-level object of valid JSON `text`.
Object scan_top(std::string_view text);

// What member `m`'s value means.
Json value_of(std::string_view text, const Member& m);

// How new text is written so that it looks like the rest of the file.
struct Format {
  std::string newline = "\n";  // "\r\n" when the file's first line ends so
  std::string unit = "  ";     // one level of indentation (spaces or a tab)
  std::string colon = ": ";    // what separates a key from its value
  std::string pad;             // the spacing inside the braces of a one-line file ("" or " ")
  std::string sep;             // the spacing after its commas
  bool multiline = true;       // the top-level object has its first member on its own line
};

// The layout of valid JSON `text`, whose top level is an object.
Format detect_format(std::string_view text);

// `doc` as a whole file in the conventional layout: 2-space indentation, a final newline, CRLF
// if `original` has any, and the BOM if `original` starts with one.
std::string fresh_document(std::string_view original, const Json& doc);

// Adds member `key`: `value` to `object` of `text`, after its last member, on its own line with
// the siblings' indentation (or inline, as the siblings are). `key` must not be there yet.
void insert_member(std::string& text, const Object& object, const std::string& key,
                   const Json& value, const Format& f);

// Replaces the value of member `m` of `object` with `value`; the key and the rest stay.
void replace_value(std::string& text, const Object& object, const Member& m, const Json& value,
                   const Format& f);

// Erases member `i` of `object` with the separator that joined it to its neighbour, so that
// erasing what insert_member added gives back the bytes from before.
void erase_member(std::string& text, const Object& object, std::size_t i);

// Makes member `key` of `object` mean `value`: inserts or replaces it, leaving its bytes alone
// when it already means `value`.
void set_member(std::string& text, const Object& object, const std::string& key, const Json& value,
                const Format& f);

}  // namespace gns::config::splice
