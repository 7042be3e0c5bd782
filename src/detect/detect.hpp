#pragma once
// `detect`: what NVIDIA hardware is here and what the host offers a driver and a container
// runtime. Reads only; writes nothing and runs no program.

#include <optional>
#include <string>
#include <vector>

#include "../host/container_runtimes.hpp"
#include "../host/host_root.hpp"
#include "../host/kernel_facts.hpp"
#include "../host/os_release.hpp"
#include "../pci/nvidia.hpp"
#include "../pci/pci_scan.hpp"
#include "../settings.hpp"

namespace gns::detect {

struct Gpu {
  pci::PciFunction function;
  pci::Architecture architecture = pci::Architecture::unknown;
  pci::OpenModules open_modules = pci::OpenModules::unknown;
  std::optional<pci::VgpuInfo> vgpu;  // set when this is a vGPU guest device
};

struct OtherFunction {
  pci::PciFunction function;
  pci::FunctionKind kind = pci::FunctionKind::other;
};

// A function left out of every count, with the reason a person should read.
struct SkippedFunction {
  pci::PciAddress address;
  std::string reason;
};

struct HostFacts {
  std::optional<host::OsRelease> os;
  host::KernelFacts kernel;
  std::vector<host::ContainerRuntime> container_runtimes;
  host::ContainerToolkit container_toolkit;
};

struct PciReport {
  std::vector<Gpu> gpus;
  std::vector<pci::PciFunction> nvswitches;           // Fabric Manager is needed when any
  std::vector<OtherFunction> other_nvidia_functions;  // audio, USB, UCSI, bridges, ...
  std::vector<SkippedFunction> skipped;
  std::vector<std::string> warnings;                  // libpci's warnings
};

struct DetectReport {
  std::string pci_source;  // "dump FILE" or "sysfs DIR"
  PciReport pci;
  HostFacts host;
};

// Sorts the functions of `scan` into GPUs, NVSwitches, other NVIDIA functions and skipped
// ones (config space reading all ones), classifying each GPU. Pure: no I/O.
PciReport classify(pci::PciScan scan);

// Reads PCI: the dump in `settings`, else the root's sysfs. Throws Error for an unusable dump
// or when the root has no sysfs PCI tree.
PciReport read_pci_report(const host::HostRoot& root, const Settings& settings);

// Reads PCI (the dump in `settings`, else the root's sysfs) and the host facts under `root`.
// Throws Error for an unusable dump or when PCI cannot be read at all.
DetectReport detect(const host::HostRoot& root, const Settings& settings);

}  // namespace gns::detect
