#include "host/kernel_facts.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "support/temp_root.hpp"

using namespace gns::host;
using gns::test::TempRoot;

namespace {

constexpr const char* k_release = "5.15.0-91-generic";
constexpr const char* k_secure_boot_var =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e098032b8c4c";

// A root whose kernel is k_release, laid out the way Debian installs headers: build is an
// absolute link into /usr/src, which only means something inside the root.
void add_kernel(const TempRoot& tmp) {
  tmp.write("/proc/sys/kernel/osrelease", std::string(k_release) + "\n");
  tmp.symlink(std::string("/usr/src/linux-headers-") + k_release,
              std::string("/lib/modules/") + k_release + "/build");
}

KernelFacts facts_of(const TempRoot& tmp) { return read_kernel_facts(HostRoot(tmp.path())); }

}  // namespace

TEST_CASE("headers count as installed only when build/Makefile exists", "[host]") {
  TempRoot tmp;
  add_kernel(tmp);
  CHECK(facts_of(tmp).release == k_release);
  CHECK_FALSE(facts_of(tmp).headers_installed);

  tmp.mkdir(std::string("/usr/src/linux-headers-") + k_release);
  CHECK_FALSE(facts_of(tmp).headers_installed);

  tmp.write(std::string("/usr/src/linux-headers-") + k_release + "/Makefile", "VERSION = 5\n");
  CHECK(facts_of(tmp).headers_installed);
}

TEST_CASE("headers of another kernel release do not count", "[host]") {
  TempRoot tmp;
  add_kernel(tmp);
  tmp.write("/lib/modules/6.1.0-18-amd64/build/Makefile", "VERSION = 6\n");
  CHECK_FALSE(facts_of(tmp).headers_installed);
}

TEST_CASE("Secure Boot state comes from the EFI variable's data byte", "[host]") {
  TempRoot tmp;
  add_kernel(tmp);
  tmp.write(k_secure_boot_var, std::string("\x06\x00\x00\x00\x01", 5));
  CHECK(facts_of(tmp).secure_boot == SecureBoot::enabled);
  tmp.write(k_secure_boot_var, std::string("\x06\x00\x00\x00\x00", 5));
  CHECK(facts_of(tmp).secure_boot == SecureBoot::disabled);
}

TEST_CASE("Secure Boot is not_efi without /sys/firmware/efi", "[host]") {
  TempRoot tmp;
  add_kernel(tmp);
  tmp.mkdir("/sys/firmware/acpi");
  CHECK(facts_of(tmp).secure_boot == SecureBoot::not_efi);
}

TEST_CASE("Secure Boot is unknown when EFI has no readable variable", "[host]") {
  TempRoot tmp;
  add_kernel(tmp);
  tmp.mkdir("/sys/firmware/efi/efivars");
  CHECK(facts_of(tmp).secure_boot == SecureBoot::unknown);
  // Attributes without the data byte say nothing either.
  tmp.write(k_secure_boot_var, std::string("\x06\x00\x00\x00", 4));
  CHECK(facts_of(tmp).secure_boot == SecureBoot::unknown);
}

TEST_CASE("SecureBoot names match the JSON report's values", "[host]") {
  CHECK(to_string(SecureBoot::enabled) == "enabled");
  CHECK(to_string(SecureBoot::disabled) == "disabled");
  CHECK(to_string(SecureBoot::not_efi) == "not_efi");
  CHECK(to_string(SecureBoot::unknown) == "unknown");
}

TEST_CASE("loaded modules come from /sys/module", "[host]") {
  TempRoot tmp;
  add_kernel(tmp);
  auto none = facts_of(tmp);
  CHECK_FALSE(none.nouveau_loaded);
  CHECK_FALSE(none.nvidia_loaded);
  CHECK_FALSE(none.nvidia_version.has_value());

  tmp.mkdir("/sys/module/nouveau");
  CHECK(facts_of(tmp).nouveau_loaded);
  CHECK_FALSE(facts_of(tmp).nvidia_loaded);

  tmp.write("/sys/module/nvidia/version", "550.54.14\n");
  auto loaded = facts_of(tmp);
  CHECK(loaded.nvidia_loaded);
  CHECK(loaded.nvidia_version == std::string("550.54.14"));
}

TEST_CASE("blacklists_module matches only a blacklist command for that module", "[host]") {
  CHECK(blacklists_module("blacklist nouveau\n", "nouveau"));
  CHECK(blacklists_module("options nouveau modeset=0\n  blacklist\tnouveau  \n", "nouveau"));
  CHECK(blacklists_module("blacklist nouveau", "nouveau"));  // no trailing newline
  CHECK_FALSE(blacklists_module("# blacklist nouveau\n", "nouveau"));
  CHECK_FALSE(blacklists_module("blacklist nouveaufb\n", "nouveau"));
  CHECK_FALSE(blacklists_module("options nouveau modeset=0\n", "nouveau"));
  CHECK_FALSE(blacklists_module("install nouveau /bin/false\n", "nouveau"));
  CHECK_FALSE(blacklists_module("", "nouveau"));
}

TEST_CASE("nouveau blacklists are found in every modprobe.d and on the command line", "[host]") {
  TempRoot tmp;
  // Merged /usr: /lib/modprobe.d is the same directory as /usr/lib/modprobe.d.
  tmp.mkdir("/usr/lib");
  tmp.symlink("usr/lib", "/lib");
  add_kernel(tmp);
  tmp.write(std::string("/usr/src/linux-headers-") + k_release + "/Makefile", "VERSION = 5\n");
  tmp.write("/etc/modprobe.d/blacklist-nouveau.conf",
            "blacklist nouveau\noptions nouveau modeset=0\n");
  tmp.write("/etc/modprobe.d/commented.conf", "# blacklist nouveau\n");
  tmp.write("/etc/modprobe.d/framebuffer.conf", "blacklist nouveaufb\n");
  tmp.write("/etc/modprobe.d/not-a-conf.txt", "blacklist nouveau\n");
  tmp.write("/etc/modprobe.d/old.conf.dpkg-old", "blacklist nouveau\n");
  tmp.write("/usr/lib/modprobe.d/nvidia-graphics-drivers.conf", "blacklist nouveau\n");
  tmp.write("/proc/cmdline",
            "BOOT_IMAGE=/vmlinuz root=/dev/sda1 modprobe.blacklist=foo,nouveau quiet\n");

  auto facts = facts_of(tmp);
  CHECK(facts.nouveau_blacklisted_in ==
        std::vector<std::string>{"/etc/modprobe.d/blacklist-nouveau.conf",
                                 "/usr/lib/modprobe.d/nvidia-graphics-drivers.conf",
                                 "kernel command line"});
  // The headers link still resolves through the /lib symlink.
  CHECK(facts.headers_installed);
}

TEST_CASE("nothing blacklists nouveau on a plain root", "[host]") {
  TempRoot tmp;
  add_kernel(tmp);
  tmp.write("/etc/modprobe.d/alsa.conf", "options snd-hda-intel model=auto\n");
  tmp.write("/proc/cmdline", "root=/dev/sda1 modprobe.blacklist=nouveaufb nouveau.modeset=0\n");
  CHECK(facts_of(tmp).nouveau_blacklisted_in.empty());
}

TEST_CASE("the fixture GPU node reads as a Secure Boot host with nvidia loaded", "[host]") {
  auto facts = read_kernel_facts(HostRoot(gns::test::test_fixture("roots/gpu-node")));
  CHECK(facts.release == k_release);
  CHECK(facts.headers_installed);
  CHECK(facts.nvidia_loaded);
  CHECK(facts.nvidia_version == std::string("550.54.15"));
  CHECK(facts.secure_boot == SecureBoot::enabled);
  CHECK_FALSE(facts.nouveau_loaded);
  CHECK(facts.nouveau_blacklisted_in ==
        std::vector<std::string>{"/etc/modprobe.d/blacklist-nouveau.conf"});
}

// modprobe (kmod's conf_files_list) skips directories in modprobe.d; one named *.conf must not
// make every kernel fact unreadable.
TEST_CASE("a directory named *.conf in modprobe.d is skipped", "[host]") {
  TempRoot tmp;
  add_kernel(tmp);
  tmp.mkdir("/etc/modprobe.d/local.conf");
  tmp.write("/etc/modprobe.d/nouveau.conf", "blacklist nouveau\n");
  KernelFacts facts;
  REQUIRE_NOTHROW(facts = facts_of(tmp));
  CHECK(facts.nouveau_blacklisted_in == std::vector<std::string>{"/etc/modprobe.d/nouveau.conf"});
}
