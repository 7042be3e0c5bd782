#pragma once
// The one resolved value that src/ sees (STYLE.md 4): flags and, later, the config file
// become Settings; tests build it directly and never run CLI11.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gns {

enum class DryRun { no, yes };

enum class RuntimeKind { docker, containerd, crio, k3s };

struct RuntimeSettings {
  std::optional<RuntimeKind> runtime;      // nullopt: the one installed (apply decides)
  std::optional<std::string> config_path;  // host path; nullopt: the runtime's usual file
  std::string runtime_name = "nvidia";
  std::string runtime_path = "/usr/bin/nvidia-container-runtime";
  bool set_as_default = true;
  bool cdi = false;      // docker: features.cdi
  bool restart = true;   // restart the service after an effective change (root "/" only)
  // containerd: put the runtime in a drop-in file that config.toml imports (--drop-in) or
  // edit config.toml in place (--no-drop-in); nullopt: as the installed containerd's import
  // merge rule allows (a drop-in from 2.1 on).
  std::optional<bool> drop_in;
  // Where the templates of the text we add are read from, on the machine running the tool
  // (--templates, or `templates` in the site config file resolved under the root); a template
  // it lacks, or all of them when empty, come from the installed ones (config/templates.hpp).
  std::filesystem::path templates_dir;
};

// The toolkit stage: NVIDIA's container toolkit, from its repository.
struct ToolkitSettings {
  // One version for nvidia-container-toolkit and its companion packages (--toolkit-version,
  // `version`): "1.17.8-1"; nullopt: the newest the repository has, held as installed.
  std::optional<std::string> version;
  // The repository's URL and its signing key's (`repository`, `key`): a mirror's or an
  // air-gapped site's; nullopt: NVIDIA's own for the host's package system.
  std::optional<std::string> repository_url;
  std::optional<std::string> key_url;
};

// Open or proprietary kernel modules (--driver-modules); automatic: from the GPUs'
// architecture (pci::OpenModules): open where every GPU supports them, proprietary where one
// cannot run them (before Turing), and open where one needs them (Blackwell).
enum class DriverModules { automatic, open, proprietary };

// The driver stage: NVIDIA's driver from the distribution's way of shipping it, or a .run.
struct DriverSettings {
  // The driver branch (--driver-branch, `branch`): "580"; nullopt: the version's, else
  // k_default_driver_branch (stages/driver_stage.hpp).
  std::optional<std::string> branch;
  // The driver packages' exact version as the repository writes it (--driver-version,
  // `version`): "580.95.05-0ubuntu1", "580.95.05-1"; nullopt: the branch's newest.
  std::optional<std::string> version;
  // NVIDIA's .run installer to run instead of packages (--driver-run): a host path under --root.
  std::optional<std::string> run_file;
  DriverModules modules = DriverModules::automatic;
  // Build unsigned DKMS modules even with Secure Boot on (--allow-unsigned-modules): the
  // operator enrols a key (MOK) that signs them, or they will not load.
  bool allow_unsigned_modules = false;
  // The site's package names instead of ours (`packages`), e.g. a mirror that names them
  // otherwise; the repository (`repository`, `key`): NVIDIA's CUDA repository or a mirror.
  std::optional<std::vector<std::string>> packages;
  std::optional<std::string> repository_url;
  std::optional<std::string> key_url;
};

struct Settings {
  // The host's root directory (--root); "/" is the machine the tool runs on.
  std::filesystem::path root = "/";
  // Read PCI from this `lspci -x` dump (--pci-dump) instead of <root>/sys/bus/pci. A path on
  // the machine running the tool, not under the root: it is input, not host state.
  std::optional<std::filesystem::path> pci_dump;
  RuntimeSettings runtime;
  ToolkitSettings toolkit;
  DriverSettings driver;
  // An http(s) proxy that package tools and key downloads go through (`proxy` in the site
  // config file); nullopt: only what the host itself configures.
  std::optional<std::string> proxy;
  // How long to wait for another run's lock (--lock-timeout).
  std::chrono::milliseconds lock_timeout{std::chrono::seconds(60)};
  // Reboot the host when apply needs a reboot to go on (--reboot): `systemctl reboot`, run
  // like every command (inside --root). Off: apply only says so and exits 7.
  bool reboot = false;
};

}  // namespace gns
