#pragma once
// Small string helpers shared by messages and renderers.

#include <string>
#include <vector>

namespace gns::util {

// `items` with `separator` between them: join({"a", "b"}, ", ") == "a, b"; "" for none.
std::string join(const std::vector<std::string>& items, const std::string& separator);

}  // namespace gns::util
