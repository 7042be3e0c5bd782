#include "pci/pci_scan.hpp"

#include <catch2/catch.hpp>

#include "error.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using gns::test::shared_fixture;

TEST_CASE("a real lspci -xxxx dump is read through libpci", "[pci]") {
  auto scan = pci::scan_dump(shared_fixture("pci/rtx5080-blackwell-arrowlake-igpu.lspci-xxxx.txt"));
  REQUIRE(scan.functions.size() == 36);  // SOURCES.md: the whole desktop, 36 functions
  auto gpu = std::find_if(scan.functions.begin(), scan.functions.end(),
                          [](const auto& fn) { return fn.device_id == 0x2c02; });
  REQUIRE(gpu != scan.functions.end());
  CHECK(gpu->vendor_id == 0x10de);
  CHECK(gpu->class_id == 0x0300);
  CHECK(gpu->address.to_string() == "0000:02:00.0");
  CHECK(gpu->name == "Device 2c02");  // newer than Debian 12's pci.ids
  CHECK_FALSE(gpu->driver);           // dumps carry no driver
  CHECK_FALSE(gpu->numa_node);
  CHECK(std::is_sorted(scan.functions.begin(), scan.functions.end(),
                       [](const auto& a, const auto& b) { return a.address < b.address; }));
}

TEST_CASE("names come from pci.ids and subsystem IDs are read", "[pci]") {
  auto scan = pci::scan_dump(shared_fixture("pci/quadro-p1000-hp-vfio-host.lspci-xxx.txt"));
  auto gpu = std::find_if(scan.functions.begin(), scan.functions.end(),
                          [](const auto& fn) { return fn.device_id == 0x1cb1; });
  REQUIRE(gpu != scan.functions.end());
  CHECK(gpu->name == "GP107GL [Quadro P1000]");
  CHECK(gpu->subsystem_vendor_id == 0x103c);
  CHECK(gpu->subsystem_device_id == 0x11bc);
}

TEST_CASE("five-digit PCI domains keep every digit", "[pci]") {
  auto scan = pci::scan_dump(shared_fixture("pci/NEG-qemu-cirrus-vga-virtio-domains.sysfs-to-lspci-x.txt"));
  bool wide_domain = std::any_of(scan.functions.begin(), scan.functions.end(),
                                 [](const auto& fn) { return fn.address.domain == 0x10000; });
  CHECK(wide_domain);
  pci::PciAddress address{0x10000, 0x01, 0x1f, 7};
  CHECK(address.to_string() == "10000:01:1f.7");
}

TEST_CASE("unusable dumps are errors that name the file", "[pci]") {
  test::TempRoot dir;
  SECTION("missing") {
    auto missing = dir.path() / "absent.txt";
    CHECK_THROWS_WITH(pci::scan_dump(missing), Catch::Contains(missing.string()) &&
                                                   Catch::Contains("Cannot open"));
  }
  SECTION("empty") {
    dir.write("/empty.txt", "");
    CHECK_THROWS_WITH(pci::scan_dump(dir / "empty.txt"), Catch::Contains("empty.txt"));
  }
  SECTION("text that is not a dump") {
    dir.write("/notes.txt", "hello\nthis is not lspci output\n");
    CHECK_THROWS_WITH(pci::scan_dump(dir / "notes.txt"),
                      Catch::Contains("notes.txt") && Catch::Contains("holds no PCI function"));
  }
  SECTION("binary garbage") {
    dir.write("/garbage.bin", std::string(5000, '\x7f'));
    CHECK_THROWS_WITH(pci::scan_dump(dir / "garbage.bin"), Catch::Contains("garbage.bin"));
  }
  SECTION("a malformed hex row") {
    dir.write("/bad.txt", "01:00.0 VGA\n00: zz\n");
    CHECK_THROWS_WITH(pci::scan_dump(dir / "bad.txt"), Catch::Contains("Malformed"));
  }
}

TEST_CASE("a sysfs tree that is not there is an error", "[pci]") {
  test::TempRoot dir;
  CHECK_THROWS_AS(pci::scan_sysfs(dir / "sys/bus/pci"), Error);
}
