#include "pci_scan.hpp"

extern "C" {
#include <pci/pci.h>
}

#include <algorithm>
#include <array>
#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <memory>

#include "../error.hpp"

namespace gns::pci {
namespace {

// libpci reports fatal errors through a callback that must not return (its default calls
// exit()). Ours longjmps back to the guarded call, which turns it into an exception. Only
// libpci's C frames and a trivial lambda lie between setjmp and longjmp, so no C++ object
// is skipped; the callbacks carry no user pointer, hence the thread_local context.
struct LibpciContext {
  std::jmp_buf jump;
  char error[512] = {};
  std::vector<std::string>* warnings = nullptr;
};
thread_local LibpciContext* t_context = nullptr;

[[noreturn]] void on_libpci_error(char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(t_context->error, sizeof t_context->error, format, args);
  va_end(args);
  std::longjmp(t_context->jump, 1);
}

void on_libpci_warning(char* format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  t_context->warnings->emplace_back(message);
}

void on_libpci_debug(char*, ...) {}

// Runs one libpci call; a fatal libpci error becomes an Error carrying libpci's message.
template <class LibpciCall>
void guarded(LibpciContext& context, LibpciCall&& call) {
  if (setjmp(context.jump) == 0) {
    call();
    return;
  }
  throw Error(context.error);
}

struct AccessDeleter {
  void operator()(pci_access* access) const { pci_cleanup(access); }
};
using AccessPtr = std::unique_ptr<pci_access, AccessDeleter>;

std::vector<std::vector<uint8_t>> read_vendor_capabilities(LibpciContext& context, pci_dev* dev) {
  constexpr unsigned k_vendor_specific = 0x09;
  std::vector<std::vector<uint8_t>> found;
  for (pci_cap* cap = dev->first_cap; cap != nullptr; cap = cap->next) {
    if (cap->type != PCI_CAP_NORMAL || cap->id != k_vendor_specific) continue;
    std::array<u8, 256> bytes{};
    const int offset = static_cast<int>(cap->addr);
    int length = 0;
    guarded(context, [&] { length = pci_read_byte(dev, offset + 2); });
    // The length byte counts from the capability ID; clamp it to the 256-byte header space.
    length = std::clamp(length, 3, 256 - offset);
    guarded(context, [&] { pci_read_block(dev, offset, bytes.data(), length); });
    found.emplace_back(bytes.begin(), bytes.begin() + length);
  }
  return found;
}

std::string lookup_name(LibpciContext& context, pci_access* access, const PciFunction& fn) {
  std::array<char, 256> buffer{};
  char* name = nullptr;
  guarded(context, [&] {
    name = pci_lookup_name(access, buffer.data(), static_cast<int>(buffer.size()),
                           PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_HWDB, fn.vendor_id, fn.device_id);
  });
  return name != nullptr ? std::string(name) : "Device " + hex4(fn.device_id);
}

PciFunction read_function(LibpciContext& context, pci_access* access, pci_dev* dev) {
  constexpr unsigned k_fields = PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT |
                                PCI_FILL_SUBSYS | PCI_FILL_CAPS | PCI_FILL_NUMA_NODE |
                                PCI_FILL_DRIVER;
  unsigned known = 0;
  guarded(context, [&] { known = static_cast<unsigned>(pci_fill_info(dev, static_cast<int>(k_fields))); });

  PciFunction fn;
  fn.address = {static_cast<uint32_t>(dev->domain), dev->bus, dev->dev, dev->func};
  fn.vendor_id = dev->vendor_id;
  fn.device_id = dev->device_id;
  fn.class_id = dev->device_class;
  fn.prog_if = dev->prog_if;
  fn.revision = dev->rev_id;
  fn.subsystem_vendor_id = dev->subsys_vendor_id;
  fn.subsystem_device_id = dev->subsys_id;
  if ((known & PCI_FILL_NUMA_NODE) && dev->numa_node >= 0) fn.numa_node = dev->numa_node;
  if (known & PCI_FILL_DRIVER) {
    char* driver = nullptr;
    guarded(context, [&] { driver = pci_get_string_property(dev, PCI_FILL_DRIVER); });
    if (driver != nullptr) fn.driver = driver;
  }
  if (known & PCI_FILL_CAPS) fn.vendor_capabilities = read_vendor_capabilities(context, dev);
  fn.name = lookup_name(context, access, fn);
  return fn;
}

PciScan scan(unsigned method, const char* param, const std::string& path) {
  PciScan result;
  LibpciContext context;
  context.warnings = &result.warnings;
  LibpciContext* previous = t_context;
  t_context = &context;
  struct Restore {
    LibpciContext* previous;
    ~Restore() { t_context = previous; }
  } restore{previous};

  AccessPtr access(pci_alloc());
  access->error = on_libpci_error;
  access->warning = on_libpci_warning;
  access->debug = on_libpci_debug;
  access->method = method;
  pci_set_param(access.get(), const_cast<char*>(param), const_cast<char*>(path.c_str()));
  // Names come from pci.ids only: the same answer wherever the tool runs, and no udev.
  pci_set_param(access.get(), const_cast<char*>("hwdb.disable"), const_cast<char*>("1"));
  guarded(context, [&] { pci_init(access.get()); });
  guarded(context, [&] { pci_scan_bus(access.get()); });

  for (pci_dev* dev = access->devices; dev != nullptr; dev = dev->next)
    result.functions.push_back(read_function(context, access.get(), dev));
  std::sort(result.functions.begin(), result.functions.end(),
            [](const PciFunction& a, const PciFunction& b) { return a.address < b.address; });
  return result;
}

}  // namespace

std::string hex4(uint16_t value) {
  char text[5];
  std::snprintf(text, sizeof text, "%04x", value);
  return text;
}

std::string PciAddress::to_string() const {
  char text[32];
  std::snprintf(text, sizeof text, "%04x:%02x:%02x.%x", domain, bus, device, function);
  return text;
}

PciScan scan_dump(const std::filesystem::path& dump_path) {
  const std::string shown = dump_path.string();
  PciScan result;
  try {
    result = scan(PCI_ACCESS_DUMP, "dump.name", shown);
  } catch (const Error& e) {
    // libpci says "dump: Cannot open X: ..." or "dump: Malformed line"; name the file once.
    std::string message = e.what();
    if (message.rfind("dump: ", 0) == 0) message.erase(0, 6);
    throw Error(shown + ": not a usable lspci -x dump: " + message);
  }
  if (result.functions.empty())
    throw Error(shown + ": holds no PCI function; expected `lspci -x` (or -xxx, -xxxx) output");
  return result;
}

PciScan scan_sysfs(const std::filesystem::path& sysfs_bus_pci) {
  try {
    return scan(PCI_ACCESS_SYS_BUS_PCI, "sysfs.path", sysfs_bus_pci.string());
  } catch (const Error& e) {
    throw Error("cannot read PCI devices from " + sysfs_bus_pci.string() + ": " + e.what());
  }
}

}  // namespace gns::pci
