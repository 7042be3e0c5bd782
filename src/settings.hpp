#pragma once
// The one resolved value that src/ sees (STYLE.md 4): flags and, later, the config file
// become Settings; tests build it directly and never run CLI11.

#include <filesystem>
#include <optional>

namespace gns {

struct Settings {
  // The host's root directory (--root); "/" is the machine the tool runs on.
  std::filesystem::path root = "/";
  // Read PCI from this `lspci -x` dump (--pci-dump) instead of <root>/sys/bus/pci. A path on
  // the machine running the tool, not under the root: it is input, not host state.
  std::optional<std::filesystem::path> pci_dump;
};

}  // namespace gns
