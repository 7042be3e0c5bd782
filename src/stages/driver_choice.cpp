#include "driver_choice.hpp"

#include <algorithm>

#include "../error.hpp"
#include "../util/strings.hpp"

namespace gns::stages {
namespace {

using packages::Family;

// The distinct architectures of the GPUs whose open-module support is `wanted`.
std::string architectures_where(const std::vector<detect::Gpu>& gpus, pci::OpenModules wanted) {
  std::vector<std::string> names;
  for (const auto& gpu : gpus) {
    if (gpu.open_modules != wanted) continue;
    const std::string name(pci::to_string(gpu.architecture));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return util::join(names, ", ");
}

std::string major_of(const std::string& version_id) { return version_id.substr(0, version_id.find('.')); }

bool is_like(const host::OsRelease& os, std::initializer_list<std::string_view> ids) {
  auto matches = [&](const std::string& id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
  return matches(os.id) || std::any_of(os.id_like.begin(), os.id_like.end(), matches);
}

// NVIDIA's CUDA network repository for `distro_dir` ("debian12", "rhel9", "sles15").
packages::Repository cuda_repository(const std::string& distro_dir, const std::string& machine,
                                     const std::string& key_file, const DriverSettings& settings) {
  const std::string arch = machine == "aarch64" ? "sbsa" : machine;
  const std::string base = "https://developer.download.nvidia.com/compute/cuda/repos/" + distro_dir + "/" + arch + "/";
  // NVIDIA signs the CUDA repository's packages, not its metadata.
  return {"cuda-" + distro_dir, "NVIDIA CUDA (" + distro_dir + ")", settings.repository_url.value_or(base),
          settings.key_url.value_or(base + key_file), /*metadata_signed=*/false, /*packages_signed=*/true};
}

std::vector<packages::PackageRequest> requests(const std::vector<std::string>& names,
                                               const std::optional<std::string>& version) {
  std::vector<packages::PackageRequest> wanted;
  for (const auto& name : names) wanted.push_back({name, version});
  return wanted;
}

DriverPath ubuntu_path(const std::string& branch, const std::string& kernel, bool open) {
  DriverPath path;
  const std::string flavour = branch + "-server" + (open ? "-open" : "");
  path.packages = {{"nvidia-driver-" + flavour, std::nullopt}};
  path.precompiled_modules = "linux-modules-nvidia-" + flavour + "-" + kernel;
  path.headers_package = "linux-headers-" + kernel;
  path.fabric_manager = "nvidia-fabricmanager-" + branch;
  path.why.push_back("Canonical's nvidia-driver-" + flavour + " (the server series, as "
                     "ubuntu-drivers picks for datacenter GPUs), from the Ubuntu archive");
  return path;
}

DriverPath debian_path(const host::OsRelease& os, const std::string& branch, const std::string& kernel,
                       const std::string& machine, bool open, const DriverSettings& settings) {
  DriverPath path;
  const std::string name = (open ? "nvidia-open-" : "cuda-drivers-") + branch;
  path.packages = {{name, std::nullopt}};
  path.repository = cuda_repository("debian" + major_of(os.version_id), machine, "3bf863cc.pub", settings);
  path.headers_package = "linux-headers-" + kernel;
  path.fabric_manager = "nvidia-fabricmanager-" + branch;
  path.pin_with_apt_preferences = true;
  path.why.push_back(name + " from NVIDIA's CUDA repository (Debian's own nvidia-driver lags "
                     "NVIDIA's datacenter branches), built for the kernel by DKMS");
  return path;
}

DriverPath rhel_path(const host::OsRelease& os, const std::string& branch, const std::string& kernel,
                     const std::string& machine, bool open, const DriverSettings& settings) {
  DriverPath path;
  const std::string kmod = open ? "kmod-nvidia-open-dkms" : "kmod-nvidia-latest-dkms";
  path.module_stream = "nvidia-driver:" + branch + (open ? "-open" : "-dkms");
  path.packages = {{"nvidia-driver", std::nullopt}, {kmod, std::nullopt}};
  path.repository = cuda_repository("rhel" + major_of(os.version_id), machine, "D42D0685.pub", settings);
  path.headers_package = "kernel-devel-" + kernel;
  path.fabric_manager = "nvidia-fabric-manager";
  path.why.push_back("the " + *path.module_stream + " module stream from NVIDIA's CUDA "
                     "repository, built for the kernel by DKMS");
  return path;
}

DriverPath suse_path(const std::string& branch, const std::string& machine,
                     bool open, const DriverSettings& settings) {
  DriverPath path;
  // SUSE signs the open kernel module package (KMP) it builds for its kernels; the proprietary
  // KMP is built on the host, unsigned.
  // The names carry no branch (G06 is every recent one): the branch goes with each request.
  path.packages = {{open ? "nvidia-open-driver-G06-signed-cuda-kmp-default" : "nvidia-driver-G06-kmp-default", std::nullopt, branch},
                   {"nvidia-compute-utils-G06", std::nullopt, branch}};
  path.modules_signed = open;
  path.repository = cuda_repository("sles15", machine, "D42D0685.pub", settings);
  path.headers_package = "kernel-default-devel";
  path.fabric_manager = "nvidia-fabric-manager";
  path.why.push_back(path.packages.front().name + " (driver branch " + branch +
                     ") from NVIDIA's CUDA repository" +
                     (open ? ", whose kernel module SUSE signs" : ""));
  return path;
}

}  // namespace

ModulesChoice choose_modules(const std::vector<detect::Gpu>& gpus, DriverModules asked) {
  const auto need = architectures_where(gpus, pci::OpenModules::required);
  const auto cannot = architectures_where(gpus, pci::OpenModules::unsupported);
  if (!need.empty() && !cannot.empty())
    throw UsageError("these GPUs cannot share one driver: " + need + " GPUs need NVIDIA's open "
                     "kernel modules and " + cannot + " GPUs cannot run them");
  if (!need.empty()) {
    if (asked == DriverModules::proprietary)
      throw UsageError("--driver-modules proprietary: " + need + " GPUs run only the open kernel modules");
    return {true, "open kernel modules: " + need + " GPUs run only those"};
  }
  if (!cannot.empty()) {
    if (asked == DriverModules::open)
      throw UsageError("--driver-modules open: " + cannot + " GPUs (older than Turing) cannot run "
                       "the open kernel modules");
    return {false, "proprietary kernel modules: " + cannot + " GPUs (older than Turing) cannot run the open ones"};
  }
  if (asked == DriverModules::proprietary) return {false, "proprietary kernel modules, as asked"};
  if (asked == DriverModules::open) return {true, "open kernel modules, as asked"};
  std::string why = "open kernel modules, NVIDIA's default since branch 560 for Turing and later GPUs";
  if (auto unknown = architectures_where(gpus, pci::OpenModules::unknown); !unknown.empty())
    why += " (a GPU's architecture is unknown: give --driver-modules proprietary if it is older than Turing)";
  return {true, why};
}

std::string driver_branch(const DriverSettings& settings) {
  std::optional<std::string> from_version;
  if (settings.version) from_version = settings.version->substr(0, settings.version->find('.'));
  if (settings.branch && from_version && *settings.branch != *from_version)
    throw UsageError("--driver-version " + *settings.version + " is not of --driver-branch " + *settings.branch);
  return settings.branch.value_or(from_version.value_or(std::string(k_default_driver_branch)));
}

DriverPath driver_path(const host::OsRelease& os, Family family, const std::string& kernel_release,
                       const std::string& machine, const DriverSettings& settings,
                       const ModulesChoice& modules) {
  const auto branch = driver_branch(settings);
  DriverPath path;
  if (family == Family::apt && is_like(os, {"ubuntu"}))
    path = ubuntu_path(branch, kernel_release, modules.open);
  else if (family == Family::apt && is_like(os, {"debian"}))
    path = debian_path(os, branch, kernel_release, machine, modules.open, settings);
  else if (family == Family::dnf && is_like(os, {"rhel", "rocky", "almalinux", "centos", "ol"}) &&
           (major_of(os.version_id) == "8" || major_of(os.version_id) == "9" || major_of(os.version_id) == "10"))
    path = rhel_path(os, branch, kernel_release, machine, modules.open, settings);
  else if (family == Family::zypper && major_of(os.version_id) == "15")
    path = suse_path(branch, machine, modules.open, settings);
  else
    throw PreflightRefused(PreflightRefused::Reason::unsupported_distro,
                           "gpu-node-setup has no NVIDIA driver packages for \"" +
                               (os.pretty_name.empty() ? os.id : os.pretty_name) +
                               "\" (it knows Ubuntu, Debian, RHEL/Rocky/Alma 8-10 and SLES 15): "
                               "give NVIDIA's installer with --driver-run FILE, or install the "
                               "driver yourself and run apply --stages nouveau,toolkit,runtime");
  path.distro = os.pretty_name.empty() ? os.id + " " + os.version_id : os.pretty_name;
  if (settings.packages) {
    path.packages = requests(*settings.packages, std::nullopt);
    path.module_stream.reset();
    path.precompiled_modules.reset();
    path.why = {"the site's driver packages (driver.packages in the site config file)"};
  }
  // A pinned version pins every driver package and Fabric Manager to it: they must match.
  for (auto& request : path.packages) request.version = settings.version;
  if (settings.version)
    for (auto& request : path.packages) request.branch.reset();
  path.why.push_back(modules.why);
  return path;
}

}  // namespace gns::stages
