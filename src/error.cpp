#include "error.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace gns {
namespace {

std::string position_prefix(const std::string& path, unsigned line, unsigned column) {
  std::string prefix = path;
  if (line > 0) {
    prefix += ":" + std::to_string(line);
    if (column > 0) prefix += ":" + std::to_string(column);
  }
  return prefix + ": ";
}

// Anything beyond these characters means something to a shell (;, *, |, `, newline, ...).
bool needs_quoting(const std::string& arg) {
  return arg.empty() || std::any_of(arg.begin(), arg.end(), [](char c) {
           return !std::isalnum(static_cast<unsigned char>(c)) &&
                  std::string_view("_@%+=:,./-").find(c) == std::string_view::npos;
         });
}

}  // namespace

ConfigError::ConfigError(std::string path, unsigned line, unsigned column,
                         const std::string& message)
    : Error(position_prefix(path, line, column) + message),
      m_path(std::move(path)),
      m_line(line),
      m_column(column),
      m_message(message) {}

CommandFailed::CommandFailed(std::vector<std::string> argv, const std::string& status,
                             const std::string& stderr_tail)
    : Error("command failed (" + status + "): " + format_command_line(argv) +
            (stderr_tail.empty() ? "" : "\n" + stderr_tail)),
      m_argv(std::move(argv)) {}

std::string format_command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line += ' ';
    if (!needs_quoting(arg)) {
      line += arg;
      continue;
    }
    // Single quotes keep everything literal; an embedded ' becomes '\''.
    line += '\'';
    for (char c : arg) line += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    line += '\'';
  }
  return line;
}

}  // namespace gns
