#pragma once
// Small string helpers shared by messages and renderers.

#include <string>
#include <string_view>
#include <vector>

namespace gns::util {

// `items` with `separator` between them: join({"a", "b"}, ", ") == "a, b"; "" for none.
std::string join(const std::vector<std::string>& items, const std::string& separator);

// `text` without the spaces, tabs and carriage returns at either end.
std::string_view trim(std::string_view text);

// The lines of `text`, each without its newline; a last line without one counts, an empty
// text has none. The views point into `text`.
std::vector<std::string_view> lines_of(std::string_view text);

}  // namespace gns::util
