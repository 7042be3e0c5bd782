#pragma once
// Facts about the running kernel that decide how a driver can be installed: its release and
// headers (DKMS needs them), Secure Boot (unsigned modules will not load), and which of
// nouveau and nvidia are loaded or blacklisted.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host_root.hpp"

namespace gns::host {

enum class SecureBoot { enabled, disabled, not_efi, unknown };

// "enabled", "disabled", "not_efi" (legacy BIOS boot), "unknown" (EFI, variable unreadable).
std::string_view to_string(SecureBoot state);

struct KernelFacts {
  std::string release;                   // "6.1.0-18-amd64"
  bool headers_installed = false;        // /lib/modules/<release>/build holds a Makefile
  SecureBoot secure_boot = SecureBoot::unknown;
  bool nouveau_loaded = false;           // /sys/module/nouveau exists
  bool nvidia_loaded = false;            // /sys/module/nvidia exists
  std::optional<std::string> nvidia_version;  // /sys/module/nvidia/version
  // Where nouveau is blacklisted: modprobe.d files (host paths) and "kernel command line".
  std::vector<std::string> nouveau_blacklisted_in;
};

// Reads every kernel fact through `root`; never fails for a fact that is merely absent.
// Throws Error only when a file exists but cannot be read.
KernelFacts read_kernel_facts(const HostRoot& root);

// True when modprobe.d text `conf_text` has a "blacklist `module`" line.
bool blacklists_module(std::string_view conf_text, std::string_view module);

}  // namespace gns::host
