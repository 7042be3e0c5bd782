#include "detect.hpp"

#include "../error.hpp"

namespace gns::detect {
namespace {

// A config space that reads all ones has vendor ffff: the device is powered off (an Optimus
// GPU in D3cold), gone, or not answering. It cannot be identified, so it is not counted.
constexpr uint16_t k_absent_vendor_id = 0xffff;

constexpr const char* k_all_ones_reason =
    "config space reads all ones (vendor ffff): powered off (e.g. an Optimus GPU in D3cold) "
    "or not responding, so it cannot be identified";

Gpu classify_gpu(pci::PciFunction function) {
  Gpu gpu;
  gpu.architecture = pci::gpu_architecture(function.name, function.device_id);
  gpu.open_modules = pci::open_modules_for(gpu.architecture);
  gpu.vgpu = pci::find_vgpu(function.vendor_capabilities);
  gpu.function = std::move(function);
  return gpu;
}

std::string pci_source(const host::HostRoot& root, const Settings& settings) {
  if (settings.pci_dump) return "dump " + settings.pci_dump->string();
  return "sysfs " + root.resolve("/sys/bus/pci").string();
}

}  // namespace

PciReport read_pci_report(const host::HostRoot& root, const Settings& settings) {
  if (settings.pci_dump) return classify(pci::scan_dump(*settings.pci_dump));
  const auto sysfs = root.resolve("/sys/bus/pci");
  if (!root.is_directory("/sys/bus/pci/devices"))
    throw Error("no PCI devices directory at " + sysfs.string() +
                "/devices (is sysfs mounted under the root? --pci-dump FILE reads a dump instead)");
  return classify(pci::scan_sysfs(sysfs));
}

namespace {

HostFacts read_host_facts(const host::HostRoot& root) {
  HostFacts facts;
  facts.os = host::read_os_release(root);
  facts.kernel = host::read_kernel_facts(root);
  facts.container_runtimes = host::find_container_runtimes(root);
  facts.container_toolkit = host::find_container_toolkit(root);
  return facts;
}

}  // namespace

PciReport classify(pci::PciScan scan) {
  PciReport report;
  report.warnings = std::move(scan.warnings);
  for (auto& function : scan.functions) {
    if (function.vendor_id == k_absent_vendor_id) {
      report.skipped.push_back({function.address, k_all_ones_reason});
      continue;
    }
    if (function.vendor_id != pci::k_nvidia_vendor_id) continue;
    switch (auto kind = pci::classify_function(function.class_id)) {
      case pci::FunctionKind::gpu: report.gpus.push_back(classify_gpu(std::move(function))); break;
      case pci::FunctionKind::nvswitch: report.nvswitches.push_back(std::move(function)); break;
      default: report.other_nvidia_functions.push_back({std::move(function), kind}); break;
    }
  }
  return report;
}

DetectReport detect(const host::HostRoot& root, const Settings& settings) {
  DetectReport report;
  report.pci_source = pci_source(root, settings);
  report.pci = read_pci_report(root, settings);
  report.host = read_host_facts(root);
  return report;
}

}  // namespace gns::detect
