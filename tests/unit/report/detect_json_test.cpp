#include "report/detect_json.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "support/temp_root.hpp"

using namespace gns;
using json = nlohmann::ordered_json;

namespace {

detect::DetectReport sample_report() {
  detect::DetectReport report;
  report.pci_source = "dump x.txt";
  detect::Gpu gpu;
  gpu.function.address = {0, 0x3b, 0, 0};
  gpu.function.vendor_id = 0x10de;
  gpu.function.device_id = 0x20b2;
  gpu.function.subsystem_vendor_id = 0x10de;
  gpu.function.subsystem_device_id = 0x147f;
  gpu.function.class_id = 0x0302;
  gpu.function.revision = 0xa1;
  gpu.function.name = "GA100 [A100 SXM4 80GB]";
  gpu.function.driver = "nvidia";
  gpu.function.numa_node = 1;
  gpu.architecture = pci::Architecture::ampere;
  gpu.open_modules = pci::OpenModules::supported;
  gpu.vgpu = pci::VgpuInfo{"550.54.16", std::nullopt};
  report.pci.gpus.push_back(gpu);
  pci::PciFunction nvswitch;
  nvswitch.vendor_id = 0x10de;
  nvswitch.device_id = 0x1af1;
  nvswitch.class_id = 0x0680;
  report.pci.nvswitches.push_back(nvswitch);
  report.host.kernel.release = "6.1.0-18-amd64";
  report.host.kernel.nouveau_blacklisted_in = {"/etc/modprobe.d/blacklist-nouveau.conf"};
  return report;
}

}  // namespace

TEST_CASE("detect JSON carries every documented GPU field", "[report]") {
  json doc = report::detect_to_json(sample_report());
  CHECK(doc["schema_version"] == report::k_detect_schema_version);
  CHECK(doc["gpu_count"] == 1);
  CHECK(doc["fabric_manager_required"] == true);
  const json& gpu = doc["gpus"][0];
  CHECK(gpu["pci_address"] == "0000:3b:00.0");
  CHECK(gpu["vendor_id"] == "10de");
  CHECK(gpu["device_id"] == "20b2");
  CHECK(gpu["subsystem_vendor_id"] == "10de");
  CHECK(gpu["subsystem_device_id"] == "147f");
  CHECK(gpu["class_id"] == "0302");
  CHECK(gpu["revision"] == "a1");
  CHECK(gpu["name"] == "GA100 [A100 SXM4 80GB]");
  CHECK(gpu["architecture"] == "Ampere");
  CHECK(gpu["open_modules"] == "supported");
  CHECK(gpu["driver"] == "nvidia");
  CHECK(gpu["numa_node"] == 1);
  CHECK(gpu["vgpu"]["host_driver_version"] == "550.54.16");
  CHECK(gpu["vgpu"]["host_driver_branch"].is_null());
  CHECK(doc["nvswitches"][0]["device_id"] == "1af1");
  CHECK(doc["skipped"].is_array());
  CHECK(doc["host"]["kernel"]["nouveau_blacklisted"] == true);
  CHECK(doc["host"]["os"].is_null());
}

TEST_CASE("IDs are always four lowercase hex digits", "[report]") {
  auto report = sample_report();
  report.pci.gpus[0].function.device_id = 0x0a65;
  report.pci.gpus[0].function.subsystem_vendor_id = 0;
  json doc = report::detect_to_json(report);
  CHECK(doc["gpus"][0]["device_id"] == "0a65");
  CHECK(doc["gpus"][0]["subsystem_vendor_id"] == "0000");
}

TEST_CASE("absent facts are JSON null, not empty strings", "[report]") {
  auto report = sample_report();
  report.pci.gpus[0].function.driver.reset();
  report.pci.gpus[0].function.numa_node.reset();
  report.pci.gpus[0].vgpu.reset();
  json doc = report::detect_to_json(report);
  CHECK(doc["gpus"][0]["driver"].is_null());
  CHECK(doc["gpus"][0]["numa_node"].is_null());
  CHECK(doc["gpus"][0]["vgpu"].is_null());
}

TEST_CASE("the Ansible fact is the detect document, written under the root", "[report]") {
  test::TempRoot root;
  host::HostRoot host_root(root.path());
  json doc = report::detect_to_json(sample_report());
  report::write_ansible_fact(host_root, doc);

  auto path = root / "/etc/ansible/facts.d/gpu.fact";
  CHECK(json::parse(test::read_file(path)) == doc);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);  // not executable: Ansible must read it, not run it
}
