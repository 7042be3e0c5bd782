#pragma once
// src/ never prints (DESIGN.md): what it has to say while it works goes to a LogSink that
// cli/ provides and renders (stderr, honouring --verbose / --quiet).

#include <functional>
#include <string_view>

namespace gns {

enum class LogLevel { debug, info, warning };

// Receives one message without a trailing newline.
using LogSink = std::function<void(LogLevel, std::string_view)>;

// A sink that drops everything (tests, and callers that want silence).
inline LogSink null_log_sink() {
  return [](LogLevel, std::string_view) {};
}

}  // namespace gns
