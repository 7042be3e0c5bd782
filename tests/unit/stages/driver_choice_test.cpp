#include "stages/driver_choice.hpp"

#include <catch2/catch.hpp>

#include "detect/detect.hpp"
#include "error.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::stages;
using packages::Family;

namespace {

using Names = std::vector<std::string>;

// The GPUs of a real machine's dump: `path` from test::shared_fixture or test::test_fixture.
std::vector<detect::Gpu> gpus_of(const std::filesystem::path& path) {
  test::TempRoot dir;
  const host::HostRoot root(dir.path());
  Settings settings;
  settings.pci_dump = path;
  return detect::read_pci_report(root, settings).gpus;
}

const auto k_pascal = "gt1030-x2-hdmi-audio.lspci-xxx.txt";
const auto k_blackwell = "rtx5080-blackwell-arrowlake-igpu.lspci-xxxx.txt";
const auto k_ada_and_pascal = "rtx4090-x2-gt1030-aspeed.lspci-xxx.txt";
const auto k_hgx = "pci/hgx-h100-2gpu-2nvswitch-derived-from-h100-sxm5-config96.lspci-x.txt";

std::vector<detect::Gpu> shared_gpus(const std::string& dump) { return gpus_of(test::shared_fixture("pci/" + dump)); }

// A GPU of `architecture` at bus `bus`, classified as detect classifies it.
detect::Gpu gpu(pci::Architecture architecture, uint8_t bus) {
  detect::Gpu made;
  made.function.address.bus = bus;
  made.function.vendor_id = pci::k_nvidia_vendor_id;
  made.architecture = architecture;
  made.open_modules = pci::open_modules_for(architecture);
  return made;
}

std::string usage_error_of(const std::vector<detect::Gpu>& gpus, DriverModules asked) {
  try {
    choose_modules(gpus, asked);
  } catch (const UsageError& error) {
    return error.what();
  }
  FAIL("choose_modules accepted the GPUs");
  return {};
}

const auto k_ubuntu = host::parse_os_release(
    "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\n");
const auto k_debian =
    host::parse_os_release("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
const auto k_rocky = host::parse_os_release(
    "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n"
    "PRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n");
const auto k_sles = host::parse_os_release(
    "NAME=\"SLES\"\nVERSION=\"15-SP6\"\nVERSION_ID=\"15.6\"\nPRETTY_NAME=\"SUSE Linux Enterprise "
    "Server 15 SP6\"\nID=\"sles\"\nID_LIKE=\"suse\"\n");

const ModulesChoice k_open{true, "open kernel modules, as asked"};
const ModulesChoice k_proprietary{false, "proprietary kernel modules, as asked"};
const std::string k_kernel = "5.15.0-119-generic";
const std::string k_cuda_repos = "https://developer.download.nvidia.com/compute/cuda/repos/";

Names names_of(const DriverPath& path) {
  Names names;
  for (const auto& request : path.packages) names.push_back(request.name);
  return names;
}

PreflightRefused refusal_of(const host::OsRelease& os, Family family) {
  try {
    driver_path(os, family, k_kernel, "x86_64", {}, k_open);
  } catch (const PreflightRefused& refused) {
    return refused;
  }
  FAIL("driver_path found a path for " + os.id);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("choose_modules gives a Pascal GPU the proprietary modules", "[driver]") {
  const auto gpus = shared_gpus(k_pascal);
  REQUIRE_FALSE(gpus.empty());
  REQUIRE(gpus[0].architecture == pci::Architecture::pascal);
  const auto choice = choose_modules(gpus, DriverModules::automatic);
  CHECK_FALSE(choice.open);
  CHECK(choice.why == "proprietary kernel modules: Pascal GPUs (older than Turing) cannot run the open ones");
  CHECK_FALSE(choose_modules(gpus, DriverModules::proprietary).open);
}

TEST_CASE("choose_modules gives Hopper GPUs the open modules by default and either when asked", "[driver]") {
  const auto gpus = gpus_of(test::test_fixture(k_hgx));
  REQUIRE(gpus.size() == 2);
  REQUIRE(gpus[0].architecture == pci::Architecture::hopper);
  const auto choice = choose_modules(gpus, DriverModules::automatic);
  CHECK(choice.open);
  CHECK(choice.why == "open kernel modules, NVIDIA's default since branch 560 for Turing and later GPUs");
  CHECK_FALSE(choose_modules(gpus, DriverModules::proprietary).open);
  CHECK(choose_modules(gpus, DriverModules::open).open);
}

TEST_CASE("choose_modules gives Blackwell the open modules and refuses proprietary ones", "[driver]") {
  const auto gpus = shared_gpus(k_blackwell);
  REQUIRE(gpus.size() == 1);
  REQUIRE(gpus[0].architecture == pci::Architecture::blackwell);
  const auto choice = choose_modules(gpus, DriverModules::automatic);
  CHECK(choice.open);
  CHECK(choice.why == "open kernel modules: Blackwell GPUs run only those");
  CHECK(usage_error_of(gpus, DriverModules::proprietary) ==
        "--driver-modules proprietary: Blackwell GPUs run only the open kernel modules");
}

TEST_CASE("choose_modules refuses Blackwell and Pascal GPUs on one host", "[driver]") {
  const std::vector<detect::Gpu> gpus = {gpu(pci::Architecture::blackwell, 1), gpu(pci::Architecture::pascal, 2)};
  for (auto asked : {DriverModules::automatic, DriverModules::open, DriverModules::proprietary})
    CHECK(usage_error_of(gpus, asked) ==
          "these GPUs cannot share one driver: Blackwell GPUs need NVIDIA's open kernel modules and "
          "Pascal GPUs cannot run them");
}

TEST_CASE("choose_modules refuses the open modules asked for on Pascal", "[driver]") {
  CHECK(usage_error_of(shared_gpus(k_pascal), DriverModules::open) ==
        "--driver-modules open: Pascal GPUs (older than Turing) cannot run the open kernel modules");
  // Ada beside a Pascal GPU: the Pascal one decides.
  const auto mixed = shared_gpus(k_ada_and_pascal);
  REQUIRE(mixed.size() == 3);
  CHECK_FALSE(choose_modules(mixed, DriverModules::automatic).open);
  CHECK_THROWS_AS(choose_modules(mixed, DriverModules::open), UsageError);
}

TEST_CASE("driver_branch is 580 unless a branch or a version names another", "[driver]") {
  DriverSettings settings;
  CHECK(driver_branch(settings) == "580");
  settings.version = "570.124.06-1";
  CHECK(driver_branch(settings) == "570");
  settings.branch = "570";
  CHECK(driver_branch(settings) == "570");
  settings.version.reset();
  settings.branch = "550";
  CHECK(driver_branch(settings) == "550");
}

TEST_CASE("driver_branch refuses a version of another branch", "[driver]") {
  DriverSettings settings;
  settings.branch = "580";
  settings.version = "570.124.06-1";
  CHECK_THROWS_MATCHES(driver_branch(settings), UsageError,
                       Catch::Matchers::Message("--driver-version 570.124.06-1 is not of --driver-branch 580"));
}

TEST_CASE("driver path on Ubuntu 22.04 is Canonical's server series without a repository", "[driver]") {
  const auto open = driver_path(k_ubuntu, Family::apt, k_kernel, "x86_64", {}, k_open);
  CHECK(open.distro == "Ubuntu 22.04.4 LTS");
  CHECK(names_of(open) == Names{"nvidia-driver-580-server-open"});
  CHECK_FALSE(open.packages[0].version);
  CHECK(open.precompiled_modules == "linux-modules-nvidia-580-server-open-" + k_kernel);
  CHECK(open.headers_package == "linux-headers-" + k_kernel);
  CHECK(open.fabric_manager == "nvidia-fabricmanager-580");
  CHECK(open.fabric_manager_service == "nvidia-fabricmanager");
  CHECK_FALSE(open.repository);
  CHECK_FALSE(open.module_stream);
  CHECK_FALSE(open.modules_signed);  // only when the precompiled package exists (the stage asks)
  CHECK(open.why.back() == k_open.why);

  const auto proprietary = driver_path(k_ubuntu, Family::apt, k_kernel, "x86_64", {}, k_proprietary);
  CHECK(names_of(proprietary) == Names{"nvidia-driver-580-server"});
  CHECK(proprietary.precompiled_modules == "linux-modules-nvidia-580-server-" + k_kernel);
}

TEST_CASE("driver path on Debian 12 is NVIDIA's CUDA repository for debian12", "[driver]") {
  const auto open = driver_path(k_debian, Family::apt, "6.1.0-18-amd64", "x86_64", {}, k_open);
  CHECK(names_of(open) == Names{"nvidia-open-580"});
  REQUIRE(open.repository);
  CHECK(open.repository->id == "cuda-debian12");
  CHECK(open.repository->url == k_cuda_repos + "debian12/x86_64/");
  CHECK(open.repository->key_url == k_cuda_repos + "debian12/x86_64/3bf863cc.pub");
  CHECK(open.headers_package == "linux-headers-6.1.0-18-amd64");
  CHECK(open.fabric_manager == "nvidia-fabricmanager-580");
  CHECK_FALSE(open.precompiled_modules);
  CHECK_FALSE(open.module_stream);
  CHECK_FALSE(open.modules_signed);

  const auto proprietary = driver_path(k_debian, Family::apt, "6.1.0-18-amd64", "x86_64", {}, k_proprietary);
  CHECK(names_of(proprietary) == Names{"cuda-drivers-580"});
}

TEST_CASE("driver path on an aarch64 server takes the CUDA repository's sbsa directory", "[driver]") {
  const auto path = driver_path(k_debian, Family::apt, "6.1.0-18-arm64", "aarch64", {}, k_open);
  REQUIRE(path.repository);
  CHECK(path.repository->url == k_cuda_repos + "debian12/sbsa/");
  CHECK(path.repository->key_url == k_cuda_repos + "debian12/sbsa/3bf863cc.pub");
}

TEST_CASE("driver path on Rocky 9 is the nvidia-driver module stream of the rhel9 repository", "[driver]") {
  const std::string kernel = "5.14.0-427.13.1.el9_4.x86_64";
  const auto open = driver_path(k_rocky, Family::dnf, kernel, "x86_64", {}, k_open);
  CHECK(open.module_stream == "nvidia-driver:580-open");
  CHECK(names_of(open) == Names{"nvidia-driver", "kmod-nvidia-open-dkms"});
  REQUIRE(open.repository);
  CHECK(open.repository->id == "cuda-rhel9");
  CHECK(open.repository->url == k_cuda_repos + "rhel9/x86_64/");
  CHECK(open.repository->key_url == k_cuda_repos + "rhel9/x86_64/D42D0685.pub");
  CHECK(open.headers_package == "kernel-devel-" + kernel);
  CHECK(open.fabric_manager == "nvidia-fabric-manager");
  CHECK_FALSE(open.modules_signed);

  const auto proprietary = driver_path(k_rocky, Family::dnf, kernel, "x86_64", {}, k_proprietary);
  CHECK(proprietary.module_stream == "nvidia-driver:580-dkms");
  CHECK(names_of(proprietary) == Names{"nvidia-driver", "kmod-nvidia-latest-dkms"});
}

TEST_CASE("driver path on SLES 15 is SUSE's signed open KMP or the unsigned proprietary one", "[driver]") {
  const auto open = driver_path(k_sles, Family::zypper, "6.4.0-150600.23.25-default", "x86_64", {}, k_open);
  CHECK(names_of(open) == Names{"nvidia-open-driver-G06-signed-cuda-kmp-default", "nvidia-compute-utils-G06"});
  CHECK(open.modules_signed);
  REQUIRE(open.repository);
  CHECK(open.repository->id == "cuda-sles15");
  CHECK(open.repository->url == k_cuda_repos + "sles15/x86_64/");
  CHECK(open.headers_package == "kernel-default-devel");
  CHECK(open.fabric_manager == "nvidia-fabric-manager");

  const auto proprietary = driver_path(k_sles, Family::zypper, "6.4.0-150600.23.25-default", "x86_64", {}, k_proprietary);
  CHECK(names_of(proprietary) == Names{"nvidia-driver-G06-kmp-default", "nvidia-compute-utils-G06"});
  CHECK_FALSE(proprietary.modules_signed);
}

TEST_CASE("driver path refuses Fedora and Arch and Amazon Linux as unsupported distributions", "[driver]") {
  const auto fedora = refusal_of(host::parse_os_release("NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=41\n"
                                                        "PRETTY_NAME=\"Fedora Linux 41 (Server Edition)\"\n"),
                                 Family::dnf);
  CHECK(fedora.reason() == PreflightRefused::Reason::unsupported_distro);
  CHECK_THAT(fedora.what(), Catch::StartsWith("gpu-node-setup has no NVIDIA driver packages for "
                                              "\"Fedora Linux 41 (Server Edition)\""));
  CHECK_THAT(fedora.what(), Catch::Contains("--driver-run FILE"));
  // A family some derivative reports does not make Arch a Debian.
  const auto arch = refusal_of(host::parse_os_release("NAME=\"Arch Linux\"\nID=arch\n"), Family::apt);
  CHECK(arch.reason() == PreflightRefused::Reason::unsupported_distro);
  CHECK_THAT(arch.what(), Catch::Contains("\"arch\""));
  const auto amazon = refusal_of(
      host::parse_os_release("NAME=\"Amazon Linux\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n"), Family::dnf);
  CHECK(amazon.reason() == PreflightRefused::Reason::unsupported_distro);
  // RHEL 7: the release is checked, not only the family.
  const auto rhel7 = refusal_of(host::parse_os_release("ID=\"rhel\"\nVERSION_ID=\"7.9\"\n"), Family::dnf);
  CHECK(rhel7.reason() == PreflightRefused::Reason::unsupported_distro);
}

// The CUDA repository has sles15 packages only: their KMPs are built for SLES 15's kernels, so
// a SUSE of another release must be refused as RHEL 7 is, not given sles15's packages.
TEST_CASE("driver path refuses a SUSE other than 15 as RHEL 7 is refused", "[driver]") {
  const auto tumbleweed = refusal_of(
      host::parse_os_release("NAME=\"openSUSE Tumbleweed\"\nID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\n"
                             "VERSION_ID=\"20250101\"\n"),
      Family::zypper);
  CHECK(tumbleweed.reason() == PreflightRefused::Reason::unsupported_distro);
  const auto sles12 = refusal_of(host::parse_os_release("NAME=\"SLES\"\nID=\"sles\"\nID_LIKE=\"suse\"\nVERSION_ID=\"12.5\"\n"),
                                 Family::zypper);
  CHECK(sles12.reason() == PreflightRefused::Reason::unsupported_distro);
}

TEST_CASE("driver path takes the site's package names instead of its own", "[driver]") {
  DriverSettings settings;
  settings.packages = Names{"site-nvidia-driver", "site-nvidia-kmod"};
  const auto rocky = driver_path(k_rocky, Family::dnf, k_kernel, "x86_64", settings, k_open);
  CHECK(names_of(rocky) == Names{"site-nvidia-driver", "site-nvidia-kmod"});
  CHECK_FALSE(rocky.module_stream);  // the stream installs NVIDIA's names, not the site's
  CHECK(rocky.why == Names{"the site's driver packages (driver.packages in the site config file)", k_open.why});
  REQUIRE(rocky.repository);  // still from the CUDA repository (or the site's)
  CHECK(rocky.repository->id == "cuda-rhel9");

  const auto ubuntu = driver_path(k_ubuntu, Family::apt, k_kernel, "x86_64", settings, k_open);
  CHECK(names_of(ubuntu) == Names{"site-nvidia-driver", "site-nvidia-kmod"});
  CHECK_FALSE(ubuntu.precompiled_modules);
}

TEST_CASE("driver path pins every driver package to the asked version", "[driver]") {
  DriverSettings settings;
  settings.version = "580.95.05-1";
  for (const auto& [os, family] : {std::pair{k_rocky, Family::dnf}, std::pair{k_sles, Family::zypper},
                                   std::pair{k_debian, Family::apt}}) {
    INFO(os.id);
    const auto path = driver_path(os, family, k_kernel, "x86_64", settings, k_open);
    REQUIRE_FALSE(path.packages.empty());
    for (const auto& request : path.packages) CHECK(request.version == "580.95.05-1");
  }
  settings.packages = Names{"site-a", "site-b"};
  const auto site = driver_path(k_debian, Family::apt, k_kernel, "x86_64", settings, k_open);
  REQUIRE(site.packages.size() == 2);
  CHECK(site.packages[0].version == "580.95.05-1");
  CHECK(site.packages[1].version == "580.95.05-1");
}

TEST_CASE("driver path takes the site's repository and key for NVIDIA's", "[driver]") {
  DriverSettings settings;
  settings.repository_url = "https://mirror.example/cuda/rhel9/";
  settings.key_url = "file:///etc/pki/cuda.pub";
  const auto path = driver_path(k_rocky, Family::dnf, k_kernel, "x86_64", settings, k_open);
  REQUIRE(path.repository);
  CHECK(path.repository->id == "cuda-rhel9");
  CHECK(path.repository->url == "https://mirror.example/cuda/rhel9/");
  CHECK(path.repository->key_url == "file:///etc/pki/cuda.pub");
  settings.key_url.reset();
  const auto only_url = driver_path(k_debian, Family::apt, k_kernel, "x86_64", settings, k_open);
  CHECK(only_url.repository->url == "https://mirror.example/cuda/rhel9/");
  CHECK(only_url.repository->key_url == k_cuda_repos + "debian12/x86_64/3bf863cc.pub");
}

TEST_CASE("driver path names the branch asked for in every package", "[driver]") {
  DriverSettings settings;
  settings.branch = "570";
  CHECK(names_of(driver_path(k_debian, Family::apt, k_kernel, "x86_64", settings, k_open)) == Names{"nvidia-open-570"});
  CHECK(driver_path(k_ubuntu, Family::apt, k_kernel, "x86_64", settings, k_open).fabric_manager == "nvidia-fabricmanager-570");
  CHECK(driver_path(k_rocky, Family::dnf, k_kernel, "x86_64", settings, k_proprietary).module_stream == "nvidia-driver:570-dkms");
}
