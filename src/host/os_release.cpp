#include "os_release.hpp"

namespace gns::host {
namespace {

std::string unquote(std::string_view value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front())
    value = value.substr(1, value.size() - 2);
  std::string text;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) ++i;  // shell-style escapes: \" \$ \\ ...
    text += value[i];
  }
  return text;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = text.find_first_not_of(" \t", pos);
    if (start == std::string::npos) break;
    size_t end = text.find_first_of(" \t", start);
    if (end == std::string::npos) end = text.size();
    words.push_back(text.substr(start, end - start));
    pos = end;
  }
  return words;
}

}  // namespace

OsRelease parse_os_release(std::string_view text) {
  OsRelease release;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t equals = line.find('=');
    if (line.empty() || line.front() == '#' || equals == std::string_view::npos) continue;
    std::string_view key = line.substr(0, equals);
    std::string value = unquote(line.substr(equals + 1));
    if (key == "ID") release.id = value;
    else if (key == "VERSION_ID") release.version_id = value;
    else if (key == "ID_LIKE") release.id_like = split_words(value);
    else if (key == "PRETTY_NAME") release.pretty_name = value;
  }
  return release;
}

std::optional<OsRelease> read_os_release(const HostRoot& root) {
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"})
    if (auto text = root.read_if_exists(path)) return parse_os_release(*text);
  return std::nullopt;
}

}  // namespace gns::host
