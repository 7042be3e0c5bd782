#include "strings.hpp"

namespace gns::util {

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty() || &item != &items.front()) text += separator;
    text += item;
  }
  return text;
}

}  // namespace gns::util
