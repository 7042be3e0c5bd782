#pragma once
// What an NVIDIA PCI function is: its kind (only GPUs count as GPUs), its architecture,
// whether the open kernel modules can or must drive it, and whether it is a vGPU.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gns::pci {

constexpr uint16_t k_nvidia_vendor_id = 0x10de;

enum class FunctionKind { gpu, nvswitch, audio, usb, serial_bus, bridge, other };

// The kind of an NVIDIA function from its class: 0300/0302/0380 GPU, 0680 NVSwitch, 0403
// HDMI audio, 0c03 USB, 0c80 serial bus (UCSI), 0604 bridge (NF200, Tegra root port).
FunctionKind classify_function(uint16_t class_id);

// "gpu", "nvswitch", "audio", "usb", "serial_bus", "bridge", "other".
std::string_view to_string(FunctionKind kind);

enum class Architecture {
  unknown, tesla, fermi, kepler, maxwell, pascal, volta, turing, ampere, ada_lovelace,
  hopper, blackwell
};

// "Kepler", "Ada Lovelace", ... as nvidia-smi names them; "unknown".
std::string_view to_string(Architecture architecture);

// The architecture named by the chip code that opens a pci.ids device name ("GA102 [...]",
// "GH100[H100 SXM5 80GB]", "TU117M [...]"); nullopt when the name has no known chip code.
std::optional<Architecture> architecture_from_name(std::string_view pci_ids_name);

// The architecture of an NVIDIA GPU device ID from the ranges NVIDIA assigned to Turing and
// later chips, for IDs newer than the installed pci.ids; unknown outside those ranges.
Architecture architecture_from_device_id(uint16_t device_id);

// The chip code of `pci_ids_name` when it has one, else the device-ID ranges.
Architecture gpu_architecture(std::string_view pci_ids_name, uint16_t device_id);

enum class OpenModules { required, supported, unsupported, unknown };

// Blackwell and newer need the open kernel modules; Turing to Hopper can use them; older
// GPUs cannot (only the proprietary module drives them).
OpenModules open_modules_for(Architecture architecture);

// "required", "supported", "unsupported", "unknown".
std::string_view to_string(OpenModules open_modules);

// A vGPU guest device: the host's vGPU manager advertises itself in a vendor-specific
// capability whose bytes 3-4 are "VF", followed by records; record 0 holds the host
// driver's version and branch (10 NUL-padded bytes each).
struct VgpuInfo {
  std::optional<std::string> host_driver_version;
  std::optional<std::string> host_driver_branch;
};

// The vGPU signature among the vendor-specific capabilities `capabilities` (each the bytes
// from its capability ID on), with the host driver record when it is well formed; nullopt
// when no capability carries the signature.
std::optional<VgpuInfo> find_vgpu(const std::vector<std::vector<uint8_t>>& capabilities);

}  // namespace gns::pci
