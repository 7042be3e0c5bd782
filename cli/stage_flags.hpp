#pragma once
// Flags shared by the commands that plan, apply and revert stages.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "context.hpp"
#include "host/runner.hpp"
#include "settings.hpp"
#include "stages/orchestrator.hpp"

namespace gns::cli {

struct StageFlags {
  std::vector<std::string> stages;  // empty: every stage
  bool dry_run = false;
  double lock_timeout_s = 60;
  bool force = false;
  // revert undoes from the journal and reads no template: a broken site config must never
  // stand in the way back.
  bool read_site_config = true;
  std::string toolkit_version;  // --toolkit-version; empty: the site config's, else the newest
  // The driver stage's flags; empty / false: the site config's, else the defaults.
  std::string driver_branch;
  std::string driver_version;
  std::string driver_run;
  std::string driver_modules;  // "open", "proprietary"
  bool allow_unsigned_modules = false;
  bool reboot = false;  // --reboot (apply)
};

struct RuntimeFlags;

// What plan, apply, configure, status and revert all start from: the flags, the host and its
// runner, and the stages they chose.
struct StageCommand {
  StageCommand(const Context& ctx, const StageFlags& stage, const RuntimeFlags& runtime);
  stages::StageContext context() { return {root, runner}; }

  const Settings settings;
  const host::HostRoot root;
  host::ProcessRunner runner;
  const std::vector<std::unique_ptr<stages::Stage>> stages;
};

struct RuntimeFlags {
  std::string runtime;      // empty: the installed one
  std::string config;
  std::string runtime_name = "nvidia";
  std::string runtime_path = "/usr/bin/nvidia-container-runtime";
  bool set_as_default = true;
  bool cdi = false;
  bool no_restart = false;
  std::optional<bool> drop_in;  // --drop-in / --no-drop-in; nullopt: neither given
  std::string templates;        // --templates DIR on this machine; empty: the site config's
};

// --stages on `cmd`.
void add_stages_flag(CLI::App* cmd, StageFlags& flags);
// --toolkit-version and the driver stage's flags on `cmd` (the commands that plan or inspect
// the package stages).
void add_toolkit_flags(CLI::App* cmd, StageFlags& flags);
void add_driver_flags(CLI::App* cmd, StageFlags& flags);
// --dry-run and --lock-timeout on `cmd` (the commands that change the host).
void add_mutation_flags(CLI::App* cmd, StageFlags& flags);
// The runtime stage's flags on `cmd`; `require_runtime` makes --runtime mandatory.
void add_runtime_flags(CLI::App* cmd, RuntimeFlags& flags, bool require_runtime);

// The Settings that the global flags, `stage` and `runtime` flags describe, over what the site
// config file (/etc/gpu-node-setup/config.toml under --root) says. Throws UsageError for an
// unknown --runtime, ConfigError for a site config file that cannot be understood.
Settings resolve_settings(const Context& ctx, const StageFlags& stage, const RuntimeFlags& runtime);

}  // namespace gns::cli
