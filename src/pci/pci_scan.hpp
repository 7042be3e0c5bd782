#pragma once
// Reading PCI functions through libpci (never by running lspci): either a live sysfs tree or
// a text dump in `lspci -x` / `-xxx` / `-xxxx` form.

#include <filesystem>
#include <string>
#include <vector>

#include "pci_function.hpp"

namespace gns::pci {

struct PciScan {
  std::vector<PciFunction> functions;  // in libpci's order, sorted by address
  std::vector<std::string> warnings;   // what libpci warned about, in order
};

// Reads the dump file at `dump_path` (a path on this machine, not under --root).
// Throws Error naming the file when it is missing, unreadable, malformed, or holds no
// function at all (a file that is not an lspci -x dump). Not a ConfigError: a dump is input
// data, not a configuration of the host (exit status 1, not 5).
PciScan scan_dump(const std::filesystem::path& dump_path);

// Reads the sysfs PCI tree at `sysfs_bus_pci` (the real path of a /sys/bus/pci directory).
// Throws Error when libpci cannot read it.
PciScan scan_sysfs(const std::filesystem::path& sysfs_bus_pci);

}  // namespace gns::pci
