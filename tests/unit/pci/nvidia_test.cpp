#include "pci/nvidia.hpp"

#include <catch2/catch.hpp>

using namespace gns::pci;

TEST_CASE("only display-class NVIDIA functions are GPUs", "[pci]") {
  CHECK(classify_function(0x0300) == FunctionKind::gpu);
  CHECK(classify_function(0x0302) == FunctionKind::gpu);
  CHECK(classify_function(0x0380) == FunctionKind::gpu);
  CHECK(classify_function(0x0680) == FunctionKind::nvswitch);
  CHECK(classify_function(0x0403) == FunctionKind::audio);
  CHECK(classify_function(0x0c03) == FunctionKind::usb);
  CHECK(classify_function(0x0c80) == FunctionKind::serial_bus);
  CHECK(classify_function(0x0604) == FunctionKind::bridge);  // NF200, Tegra root port
  CHECK(classify_function(0x0b40) == FunctionKind::other);
  CHECK(to_string(FunctionKind::serial_bus) == "serial_bus");
}

TEST_CASE("architecture comes from the chip code of the pci.ids name", "[pci]") {
  CHECK(architecture_from_name("GA102GL [RTX A6000]") == Architecture::ampere);
  CHECK(architecture_from_name("GH100[H100 SXM5 80GB]") == Architecture::hopper);
  CHECK(architecture_from_name("AD102 [GeForce RTX 4090]") == Architecture::ada_lovelace);
  CHECK(architecture_from_name("TU117M [GeForce GTX 1650 Mobile / Max-Q]") == Architecture::turing);
  CHECK(architecture_from_name("GV100GL [Tesla V100 SXM2 16GB]") == Architecture::volta);
  CHECK(architecture_from_name("GP108 [GeForce GT 1030]") == Architecture::pascal);
  CHECK(architecture_from_name("GM108M [GeForce MX130]") == Architecture::maxwell);
  CHECK(architecture_from_name("GK106 [GeForce GTX 645 OEM]") == Architecture::kepler);
  CHECK(architecture_from_name("GF108GLM [NVS 5200M]") == Architecture::fermi);
  CHECK(architecture_from_name("GT218 [GeForce 210]") == Architecture::tesla);
  CHECK(architecture_from_name("G92 [GeForce 9800 GT]") == Architecture::tesla);
  CHECK(architecture_from_name("GB202 [GeForce RTX 5090]") == Architecture::blackwell);
}

TEST_CASE("names without a chip code give no architecture", "[pci]") {
  CHECK_FALSE(architecture_from_name("Device 2c02"));
  CHECK_FALSE(architecture_from_name("NF200 PCIe 2.0 switch"));
  CHECK_FALSE(architecture_from_name("MCP79 [GeForce 9400M]"));
  CHECK_FALSE(architecture_from_name(""));
}

TEST_CASE("device-ID ranges cover IDs newer than pci.ids and guess nothing else", "[pci]") {
  CHECK(architecture_from_device_id(0x2c02) == Architecture::blackwell);  // RTX 5080
  CHECK(architecture_from_device_id(0x2901) == Architecture::blackwell);  // B200
  CHECK(architecture_from_device_id(0x2342) == Architecture::hopper);     // GH200
  CHECK(architecture_from_device_id(0x26b9) == Architecture::ada_lovelace);  // L40S
  CHECK(architecture_from_device_id(0x2182) == Architecture::turing);     // GTX 1660 Ti
  CHECK(architecture_from_device_id(0x20b2) == Architecture::ampere);     // A100
  CHECK(architecture_from_device_id(0x2230) == Architecture::ampere);     // RTX A6000
  CHECK(architecture_from_device_id(0x2486) == Architecture::ampere);     // RTX 3060 Ti
  CHECK(architecture_from_device_id(0x2330) == Architecture::hopper);     // H100 SXM5
  CHECK(architecture_from_device_id(0x1d01) == Architecture::unknown);    // Pascal: in pci.ids
  CHECK(architecture_from_device_id(0x3fff) == Architecture::unknown);
  CHECK(gpu_architecture("Device 2c02", 0x2c02) == Architecture::blackwell);
  // The name wins over the range when pci.ids knows the chip.
  CHECK(gpu_architecture("GP108 [GeForce GT 1030]", 0x2c02) == Architecture::pascal);
}

TEST_CASE("open kernel modules: required from Blackwell, possible from Turing", "[pci]") {
  CHECK(open_modules_for(Architecture::blackwell) == OpenModules::required);
  CHECK(open_modules_for(Architecture::hopper) == OpenModules::supported);
  CHECK(open_modules_for(Architecture::ada_lovelace) == OpenModules::supported);
  CHECK(open_modules_for(Architecture::turing) == OpenModules::supported);
  CHECK(open_modules_for(Architecture::volta) == OpenModules::unsupported);
  CHECK(open_modules_for(Architecture::kepler) == OpenModules::unsupported);
  CHECK(open_modules_for(Architecture::unknown) == OpenModules::unknown);
  CHECK(to_string(OpenModules::unsupported) == "unsupported");
  CHECK(to_string(Architecture::ada_lovelace) == "Ada Lovelace");
}

namespace {

// A vendor-specific capability: ID 09, next 00, length, "VF", then `records`.
std::vector<uint8_t> vf_capability(std::vector<uint8_t> records) {
  std::vector<uint8_t> cap{0x09, 0x00, 0x00, 'V', 'F'};
  cap.insert(cap.end(), records.begin(), records.end());
  cap[2] = static_cast<uint8_t>(cap.size());
  return cap;
}

std::vector<uint8_t> host_driver_record(const std::string& version, const std::string& branch) {
  std::vector<uint8_t> record{0x00, 22};
  for (const auto* field : {&version, &branch}) {
    std::string padded = *field;
    padded.resize(10, '\0');
    record.insert(record.end(), padded.begin(), padded.end());
  }
  return record;
}

}  // namespace

TEST_CASE("a VF vendor capability marks a vGPU and carries the host driver", "[pci]") {
  auto vgpu = find_vgpu({vf_capability(host_driver_record("550.54.16", "r550_00"))});
  REQUIRE(vgpu);
  CHECK(vgpu->host_driver_version == "550.54.16");
  CHECK(vgpu->host_driver_branch == "r550_00");
}

TEST_CASE("the host driver record is found after other records", "[pci]") {
  std::vector<uint8_t> records{0x07, 4, 0xaa, 0xbb};
  auto driver = host_driver_record("535.129.03", "r535_00");
  records.insert(records.end(), driver.begin(), driver.end());
  auto vgpu = find_vgpu({{0x09, 0, 8, 0, 0, 0, 0, 0}, vf_capability(records)});
  REQUIRE(vgpu);
  CHECK(vgpu->host_driver_version == "535.129.03");
}

TEST_CASE("malformed vGPU records are reported without driver fields", "[pci]") {
  SECTION("record length below its header would loop forever") {
    auto vgpu = find_vgpu({vf_capability({0x05, 0x00, 0x00})});
    REQUIRE(vgpu);
    CHECK_FALSE(vgpu->host_driver_version);
  }
  SECTION("record cut short by the capability's end") {
    auto vgpu = find_vgpu({vf_capability({0x00, 22, '5', '5', '0'})});
    REQUIRE(vgpu);
    CHECK_FALSE(vgpu->host_driver_version);
    CHECK_FALSE(vgpu->host_driver_branch);
  }
}

TEST_CASE("no VF signature means no vGPU", "[pci]") {
  CHECK_FALSE(find_vgpu({}));
  CHECK_FALSE(find_vgpu({{0x09, 0x00, 0x08, 'X', 'Y', 0, 0, 0}}));
  CHECK_FALSE(find_vgpu({{0x09, 0x00, 0x04, 'V'}}));
}
