#include "container_runtimes.hpp"

#include "../config/toml_document.hpp"
#include "../error.hpp"

namespace gns::host {
namespace {

struct KnownRuntime {
  const char* name;
  const char* program;
  const char* config_path;
};

constexpr KnownRuntime k_known_runtimes[] = {
    {"docker", "dockerd", "/etc/docker/daemon.json"},
    {"containerd", "containerd", "/etc/containerd/config.toml"},
    {"crio", "crio", "/etc/crio/crio.conf"},
    {"k3s", "k3s", "/etc/rancher/k3s/config.yaml"},
    {"rke2", "rke2", "/etc/rancher/rke2/config.yaml"},
};

// containerd treats a config without `version` as version 1. A config that cannot be read
// or parsed is a fact to report, not a reason for detect to fail.
void read_containerd_version(const HostRoot& root, ContainerRuntime& runtime) {
  try {
    toml::table table = config::parse_toml(root.read(*runtime.config_path), *runtime.config_path);
    runtime.config_version = table["version"].value_or<int64_t>(1);
  } catch (const Error& e) {
    runtime.config_error = e.what();
  }
}

}  // namespace

std::vector<ContainerRuntime> find_container_runtimes(const HostRoot& root) {
  std::vector<ContainerRuntime> found;
  for (const auto& known : k_known_runtimes) {
    auto binary = root.find_executable(known.program);
    if (!binary) continue;
    ContainerRuntime runtime{known.name, *binary, std::nullopt, std::nullopt, std::nullopt};
    if (root.exists(known.config_path)) runtime.config_path = known.config_path;
    if (runtime.name == "containerd" && runtime.config_path) read_containerd_version(root, runtime);
    found.push_back(std::move(runtime));
  }
  return found;
}

ContainerToolkit find_container_toolkit(const HostRoot& root) {
  return {root.find_executable("nvidia-ctk"), root.find_executable("nvidia-container-runtime")};
}

}  // namespace gns::host
