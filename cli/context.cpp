#include "context.hpp"

#include <iostream>

namespace gns::cli {

Settings Context::settings() const {
  Settings settings;
  settings.root = root;
  if (!pci_dump.empty()) settings.pci_dump = pci_dump;
  return settings;
}

LogSink Context::log_sink() const {
  return [verbose = verbose, quiet = quiet](LogLevel level, std::string_view message) {
    if (level == LogLevel::debug && !verbose) return;
    if (level == LogLevel::info && quiet) return;
    std::cerr << (level == LogLevel::warning ? "gpu-node-setup: warning: " : "gpu-node-setup: ")
              << message << "\n";
  };
}

}  // namespace gns::cli
