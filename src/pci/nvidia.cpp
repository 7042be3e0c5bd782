#include "nvidia.hpp"

#include <algorithm>
#include <cctype>

namespace gns::pci {
namespace {

struct ChipPrefix {
  std::string_view letters;
  Architecture architecture;
};

// NVIDIA's chip codes: G80-G98 and GT2xx were Tesla, then one prefix per architecture.
constexpr ChipPrefix k_chip_prefixes[] = {
    {"G", Architecture::tesla},    {"GT", Architecture::tesla},
    {"GF", Architecture::fermi},   {"GK", Architecture::kepler},
    {"GM", Architecture::maxwell}, {"GP", Architecture::pascal},
    {"GV", Architecture::volta},   {"TU", Architecture::turing},
    {"GA", Architecture::ampere},  {"AD", Architecture::ada_lovelace},
    {"GH", Architecture::hopper},  {"GB", Architecture::blackwell},
};

struct DeviceIdRange {
  uint16_t first;
  uint16_t last;
  Architecture architecture;
};

// Device-ID blocks of Turing and later chips (from NVIDIA's published ID lists). Only these
// matter for the fallback: every older ID is in any pci.ids this tool meets.
constexpr DeviceIdRange k_device_id_ranges[] = {
    {0x1e00, 0x1fff, Architecture::turing},       // TU102-TU117
    {0x2080, 0x20ff, Architecture::ampere},       // GA100
    {0x2180, 0x21ff, Architecture::turing},       // TU116
    {0x2200, 0x22ff, Architecture::ampere},       // GA102
    {0x2300, 0x23ff, Architecture::hopper},       // GH100, GH200
    {0x2400, 0x25ff, Architecture::ampere},       // GA103-GA107
    {0x2680, 0x28ff, Architecture::ada_lovelace}, // AD102-AD107
    {0x2900, 0x29ff, Architecture::blackwell},    // GB100, GB102 (B200, GB200)
    {0x2b00, 0x2fff, Architecture::blackwell},    // GB202-GB207, GB10
    {0x3100, 0x31ff, Architecture::blackwell},    // GB110 (B300)
};

constexpr uint8_t k_vendor_specific_cap_id = 0x09;
constexpr size_t k_vgpu_records_start = 5;
constexpr size_t k_vgpu_field_length = 10;

std::optional<std::string> nul_padded_field(const std::vector<uint8_t>& bytes, size_t start) {
  std::string text;
  for (size_t i = start; i < start + k_vgpu_field_length && bytes[i] != 0; ++i)
    text += static_cast<char>(bytes[i]);
  if (text.empty()) return std::nullopt;
  return text;
}

// Walks the records after the "VF" signature to record 0, the host driver record.
VgpuInfo read_host_driver_record(const std::vector<uint8_t>& cap) {
  size_t pos = k_vgpu_records_start;
  while (pos + 1 < cap.size() && cap[pos] != 0) {
    size_t length = cap[pos + 1];
    if (length < 2) return {};  // malformed: a record cannot be shorter than its header
    pos += length;
  }
  if (pos + 2 + 2 * k_vgpu_field_length > cap.size()) return {};
  if (cap[pos + 1] < 2 + 2 * k_vgpu_field_length) return {};
  return {nul_padded_field(cap, pos + 2), nul_padded_field(cap, pos + 2 + k_vgpu_field_length)};
}

}  // namespace

FunctionKind classify_function(uint16_t class_id) {
  switch (class_id) {
    case 0x0300:
    case 0x0302:
    case 0x0380: return FunctionKind::gpu;
    case 0x0680: return FunctionKind::nvswitch;
    case 0x0403: return FunctionKind::audio;
    case 0x0c03: return FunctionKind::usb;
    case 0x0c80: return FunctionKind::serial_bus;
    case 0x0604: return FunctionKind::bridge;
    default: return FunctionKind::other;
  }
}

std::string_view to_string(FunctionKind kind) {
  switch (kind) {
    case FunctionKind::gpu: return "gpu";
    case FunctionKind::nvswitch: return "nvswitch";
    case FunctionKind::audio: return "audio";
    case FunctionKind::usb: return "usb";
    case FunctionKind::serial_bus: return "serial_bus";
    case FunctionKind::bridge: return "bridge";
    case FunctionKind::other: break;
  }
  return "other";
}

std::string_view to_string(Architecture architecture) {
  switch (architecture) {
    case Architecture::tesla: return "Tesla";
    case Architecture::fermi: return "Fermi";
    case Architecture::kepler: return "Kepler";
    case Architecture::maxwell: return "Maxwell";
    case Architecture::pascal: return "Pascal";
    case Architecture::volta: return "Volta";
    case Architecture::turing: return "Turing";
    case Architecture::ampere: return "Ampere";
    case Architecture::ada_lovelace: return "Ada Lovelace";
    case Architecture::hopper: return "Hopper";
    case Architecture::blackwell: return "Blackwell";
    case Architecture::unknown: break;
  }
  return "unknown";
}

std::optional<Architecture> architecture_from_name(std::string_view name) {
  size_t letters = 0;
  while (letters < name.size() && std::isupper(static_cast<unsigned char>(name[letters])))
    ++letters;
  // A chip code is 1-2 capitals directly followed by a digit: "GA102", "G92", "GT218".
  if (letters == 0 || letters > 2 || letters >= name.size() ||
      !std::isdigit(static_cast<unsigned char>(name[letters])))
    return std::nullopt;
  std::string_view prefix = name.substr(0, letters);
  for (const auto& chip : k_chip_prefixes)
    if (chip.letters == prefix) return chip.architecture;
  return std::nullopt;
}

Architecture architecture_from_device_id(uint16_t device_id) {
  for (const auto& range : k_device_id_ranges)
    if (device_id >= range.first && device_id <= range.last) return range.architecture;
  return Architecture::unknown;
}

Architecture gpu_architecture(std::string_view pci_ids_name, uint16_t device_id) {
  if (auto from_name = architecture_from_name(pci_ids_name)) return *from_name;
  return architecture_from_device_id(device_id);
}

OpenModules open_modules_for(Architecture architecture) {
  if (architecture == Architecture::unknown) return OpenModules::unknown;
  if (architecture >= Architecture::blackwell) return OpenModules::required;
  if (architecture >= Architecture::turing) return OpenModules::supported;
  return OpenModules::unsupported;
}

std::string_view to_string(OpenModules open_modules) {
  switch (open_modules) {
    case OpenModules::required: return "required";
    case OpenModules::supported: return "supported";
    case OpenModules::unsupported: return "unsupported";
    case OpenModules::unknown: break;
  }
  return "unknown";
}

std::optional<VgpuInfo> find_vgpu(const std::vector<std::vector<uint8_t>>& capabilities) {
  for (const auto& cap : capabilities) {
    if (cap.size() < k_vgpu_records_start || cap[0] != k_vendor_specific_cap_id) continue;
    if (cap[3] != 'V' || cap[4] != 'F') continue;
    return read_host_driver_record(cap);
  }
  return std::nullopt;
}

}  // namespace gns::pci
