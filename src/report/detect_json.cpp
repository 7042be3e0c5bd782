#include "detect_json.hpp"

namespace gns::report {
namespace {

using json = nlohmann::ordered_json;

template <class T>
json optional_value(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json identity(const pci::PciFunction& fn) {
  return {
      {"pci_address", fn.address.to_string()},
      {"vendor_id", pci::hex4(fn.vendor_id)},
      {"device_id", pci::hex4(fn.device_id)},
      {"subsystem_vendor_id", pci::hex4(fn.subsystem_vendor_id)},
      {"subsystem_device_id", pci::hex4(fn.subsystem_device_id)},
      {"class_id", pci::hex4(fn.class_id)},
      {"revision", pci::hex4(fn.revision).substr(2)},
      {"name", fn.name},
      {"driver", optional_value(fn.driver)},
      {"numa_node", optional_value(fn.numa_node)},
  };
}

json vgpu_json(const std::optional<pci::VgpuInfo>& vgpu) {
  if (!vgpu) return nullptr;
  return {{"host_driver_version", optional_value(vgpu->host_driver_version)},
          {"host_driver_branch", optional_value(vgpu->host_driver_branch)}};
}

json gpu_json(const detect::Gpu& gpu) {
  json entry = identity(gpu.function);
  entry["architecture"] = pci::to_string(gpu.architecture);
  entry["open_modules"] = pci::to_string(gpu.open_modules);
  entry["vgpu"] = vgpu_json(gpu.vgpu);
  return entry;
}

json os_json(const std::optional<host::OsRelease>& os) {
  if (!os) return nullptr;
  return {{"id", os->id},
          {"version_id", os->version_id},
          {"id_like", os->id_like},
          {"pretty_name", os->pretty_name}};
}

json kernel_json(const host::KernelFacts& kernel) {
  return {{"release", kernel.release},
          {"headers_installed", kernel.headers_installed},
          {"secure_boot", host::to_string(kernel.secure_boot)},
          {"nouveau_loaded", kernel.nouveau_loaded},
          {"nouveau_blacklisted", !kernel.nouveau_blacklisted_in.empty()},
          {"nouveau_blacklisted_in", kernel.nouveau_blacklisted_in},
          {"nvidia_loaded", kernel.nvidia_loaded},
          {"nvidia_version", optional_value(kernel.nvidia_version)}};
}

json runtimes_json(const std::vector<host::ContainerRuntime>& runtimes) {
  json list = json::array();
  for (const auto& runtime : runtimes)
    list.push_back({{"name", runtime.name},
                    {"binary", runtime.binary},
                    {"config_path", optional_value(runtime.config_path)},
                    {"config_version", optional_value(runtime.config_version)},
                    {"config_error", optional_value(runtime.config_error)}});
  return list;
}

json host_json(const detect::HostFacts& host) {
  return {{"os", os_json(host.os)},
          {"kernel", kernel_json(host.kernel)},
          {"container_runtimes", runtimes_json(host.container_runtimes)},
          {"nvidia_container_toolkit",
           {{"installed", host.container_toolkit.installed()},
            {"nvidia_ctk", optional_value(host.container_toolkit.nvidia_ctk)},
            {"runtime_binary", optional_value(host.container_toolkit.runtime_binary)}}}};
}

json pci_lists_json(const detect::PciReport& pci) {
  json gpus = json::array(), nvswitches = json::array(), others = json::array(),
       skipped = json::array();
  for (const auto& gpu : pci.gpus) gpus.push_back(gpu_json(gpu));
  for (const auto& nvswitch : pci.nvswitches) nvswitches.push_back(identity(nvswitch));
  for (const auto& other : pci.other_nvidia_functions) {
    json entry = identity(other.function);
    entry["kind"] = pci::to_string(other.kind);
    others.push_back(std::move(entry));
  }
  for (const auto& skip : pci.skipped)
    skipped.push_back({{"pci_address", skip.address.to_string()}, {"reason", skip.reason}});
  return {{"gpus", gpus}, {"nvswitches", nvswitches}, {"other_nvidia_functions", others},
          {"skipped", skipped}};
}

}  // namespace

json detect_to_json(const detect::DetectReport& report) {
  json document = {{"schema_version", k_detect_schema_version},
                   {"pci_source", report.pci_source}};
  document.update(pci_lists_json(report.pci));
  document["gpu_count"] = report.pci.gpus.size();
  document["fabric_manager_required"] = !report.pci.nvswitches.empty();
  document["pci_warnings"] = report.pci.warnings;
  document["host"] = host_json(report.host);
  return document;
}

void write_ansible_fact(const host::HostRoot& root, const json& document) {
  root.write_atomic(k_ansible_fact_path, document.dump(2) + "\n", 0644);
}

}  // namespace gns::report
