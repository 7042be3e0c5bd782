#include "detect/detect.hpp"

#include <catch2/catch.hpp>

#include "error.hpp"
#include "support/temp_root.hpp"

using namespace gns;

namespace {

pci::PciFunction function(uint8_t bus, uint16_t vendor, uint16_t device, uint16_t class_id,
                          std::string name = "") {
  pci::PciFunction fn;
  fn.address = {0, bus, 0, 0};
  fn.vendor_id = vendor;
  fn.device_id = device;
  fn.class_id = class_id;
  fn.name = std::move(name);
  return fn;
}

}  // namespace

TEST_CASE("classify sorts NVIDIA functions and ignores other vendors", "[detect]") {
  pci::PciScan scan;
  scan.functions = {
      function(1, 0x10de, 0x2230, 0x0300, "GA102GL [RTX A6000]"),
      function(2, 0x10de, 0x1aef, 0x0403),              // HDMI audio
      function(3, 0x10de, 0x05b1, 0x0604),              // NF200 bridge
      function(4, 0x10de, 0x22a3, 0x0680),              // H100 NVSwitch
      function(5, 0x1a03, 0x2000, 0x0300),              // ASPEED BMC VGA
      function(6, 0xffff, 0xffff, 0xffff),              // powered-off Optimus GPU
      function(7, 0x10de, 0x2c02, 0x0300, "Device 2c02"),
  };
  scan.warnings = {"a warning"};
  auto report = detect::classify(scan);

  REQUIRE(report.gpus.size() == 2);
  CHECK(report.gpus[0].architecture == pci::Architecture::ampere);
  CHECK(report.gpus[0].open_modules == pci::OpenModules::supported);
  CHECK_FALSE(report.gpus[0].vgpu);
  CHECK(report.gpus[1].architecture == pci::Architecture::blackwell);
  CHECK(report.gpus[1].open_modules == pci::OpenModules::required);
  REQUIRE(report.nvswitches.size() == 1);
  CHECK(report.nvswitches[0].device_id == 0x22a3);
  REQUIRE(report.other_nvidia_functions.size() == 2);
  CHECK(report.other_nvidia_functions[0].kind == pci::FunctionKind::audio);
  CHECK(report.other_nvidia_functions[1].kind == pci::FunctionKind::bridge);
  REQUIRE(report.skipped.size() == 1);
  CHECK(report.skipped[0].address.bus == 6);
  CHECK_THAT(report.skipped[0].reason, Catch::Contains("all ones"));
  CHECK(report.warnings == std::vector<std::string>{"a warning"});
}

TEST_CASE("detect reads a dump and the host facts under the root", "[detect]") {
  test::TempRoot root;
  root.write("/etc/os-release", "ID=ubuntu\nVERSION_ID=\"22.04\"\nID_LIKE=debian\n");
  root.write("/proc/sys/kernel/osrelease", "5.15.0-91-generic\n");
  host::HostRoot host_root(root.path());
  Settings settings;
  settings.root = root.path();
  settings.pci_dump = test::shared_fixture("pci/gt1030-x2-hdmi-audio.lspci-xxx.txt");

  auto report = detect::detect(host_root, settings);
  CHECK(report.pci.gpus.size() == 2);
  CHECK(report.pci.other_nvidia_functions.size() == 2);
  CHECK_THAT(report.pci_source, Catch::StartsWith("dump ") && Catch::EndsWith("gt1030-x2-hdmi-audio.lspci-xxx.txt"));
  REQUIRE(report.host.os);
  CHECK(report.host.os->id == "ubuntu");
  CHECK(report.host.kernel.release == "5.15.0-91-generic");
  CHECK(report.host.container_runtimes.empty());
}

TEST_CASE("detect without sysfs under the root says how to go on", "[detect]") {
  test::TempRoot root;
  host::HostRoot host_root(root.path());
  Settings settings;
  settings.root = root.path();
  CHECK_THROWS_WITH(detect::detect(host_root, settings),
                    Catch::Contains("sys/bus/pci") && Catch::Contains("--pci-dump"));
}
