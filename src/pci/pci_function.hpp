#pragma once
// What libpci tells us about one PCI function, in our own types (no libpci in headers).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gns::pci {

struct PciAddress {
  uint32_t domain = 0;  // may exceed 16 bits (VMD, Hyper-V: "10000:")
  uint8_t bus = 0;
  uint8_t device = 0;
  uint8_t function = 0;

  // "DDDD:BB:DD.F" in lowercase hex; a domain wider than 4 digits keeps all its digits.
  std::string to_string() const;
  auto operator<=>(const PciAddress&) const = default;
};

struct PciFunction {
  PciAddress address;
  uint16_t vendor_id = 0;
  uint16_t device_id = 0;
  uint16_t subsystem_vendor_id = 0;
  uint16_t subsystem_device_id = 0;
  uint16_t class_id = 0;  // base class and subclass, e.g. 0x0300
  uint8_t prog_if = 0;
  uint8_t revision = 0;
  std::string name;                  // from pci.ids, or "Device XXXX" when it lacks the ID
  std::optional<std::string> driver; // bound kernel driver (sysfs only)
  std::optional<int> numa_node;      // NUMA node (sysfs only; absent when unknown)
  // The bytes of each vendor-specific capability (ID 0x09), in list order.
  std::vector<std::vector<uint8_t>> vendor_capabilities;
};

// Formats `value` as exactly four lowercase hex digits ("10de").
std::string hex4(uint16_t value);

}  // namespace gns::pci
