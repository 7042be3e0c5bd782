#pragma once
// Which container runtimes are installed on the host, and whether the NVIDIA container
// toolkit is; read from files only, so detect runs no program.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host_root.hpp"

namespace gns::host {

struct ContainerRuntime {
  std::string name;                        // "docker", "containerd", "crio", "k3s", "rke2"
  std::string binary;                      // host path of its executable
  std::optional<std::string> config_path;  // host path of its main config, when present
  // containerd only: the config's `version` (1 when the key is absent, as containerd reads it).
  std::optional<int64_t> config_version;
  // Why the config could not be read ("path:line:col: ..."), when it could not.
  std::optional<std::string> config_error;
};

struct ContainerToolkit {
  std::optional<std::string> nvidia_ctk;         // host path of nvidia-ctk
  std::optional<std::string> runtime_binary;     // host path of nvidia-container-runtime
  bool installed() const { return nvidia_ctk || runtime_binary; }
};

// The runtimes found under `root`, in a fixed order (docker, containerd, crio, k3s, rke2).
std::vector<ContainerRuntime> find_container_runtimes(const HostRoot& root);

// The NVIDIA container toolkit's programs under `root`.
ContainerToolkit find_container_toolkit(const HostRoot& root);

}  // namespace gns::host
