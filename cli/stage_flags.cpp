#include "stage_flags.hpp"

#include "config/site_config.hpp"
#include "error.hpp"
#include "stages/runtime_stage.hpp"

namespace gns::cli {

void add_stages_flag(CLI::App* cmd, StageFlags& flags) {
  cmd->add_option("--stages", flags.stages, "Only these stages, comma-separated: nouveau, driver, toolkit, runtime (default: "
                  "all, in that order)")
      ->delimiter(',')
      ->option_text("LIST");
}

void add_toolkit_flags(CLI::App* cmd, StageFlags& flags) {
  cmd->add_option("--toolkit-version", flags.toolkit_version,
                  "Install and hold nvidia-container-toolkit and its companion packages at this "
                  "version, e.g. 1.17.8-1 (default: `version` in the [toolkit] table of "
                  "/etc/gpu-node-setup/config.toml, else the repository's newest)")
      ->option_text("VERSION");
}

void add_driver_flags(CLI::App* cmd, StageFlags& flags) {
  cmd->add_option("--driver-branch", flags.driver_branch,
                  "NVIDIA driver branch to install, e.g. 580 (default: `branch` in [driver] of the "
                  "site config file, else the branch of --driver-version, else 580)")
      ->check(CLI::Validator([](std::string& value) {
        return !value.empty() && value.find_first_not_of("0123456789") == std::string::npos
                   ? std::string() : std::string("a branch is a number, e.g. 580");
      }, "NUMBER"))
      ->option_text("BRANCH");
  cmd->add_option("--driver-version", flags.driver_version,
                  "Install and hold the driver packages (and Fabric Manager) at this exact package "
                  "version, as the repository writes it, e.g. 580.95.05-1")
      ->option_text("VERSION");
  cmd->add_option("--driver-run", flags.driver_run,
                  "Install the driver with NVIDIA's .run installer at this host path (under "
                  "--root), non-interactively with DKMS, instead of packages; for a vGPU guest, "
                  "the GRID guest driver")
      ->option_text("FILE");
  cmd->add_option("--driver-modules", flags.driver_modules,
                  "Kernel modules: open or proprietary (default: from the GPUs' architecture: open "
                  "for Turing and later, proprietary before Turing)")
      ->check(CLI::IsMember({"open", "proprietary"}));
  cmd->add_flag("--allow-unsigned-modules", flags.allow_unsigned_modules,
                "With Secure Boot on, still build the modules with DKMS (unsigned unless DKMS "
                "signs them with a key you enrolled); without it such an apply exits 10");
}

void add_mutation_flags(CLI::App* cmd, StageFlags& flags) {
  cmd->add_flag("--dry-run", flags.dry_run,
                "Print the diff of every file and the commands it would run, then stop; "
                "changes nothing");
  cmd->add_option("--lock-timeout", flags.lock_timeout_s,
                  "Seconds to wait while another gpu-node-setup run holds the lock (default 60); "
                  "then exit 4")
      ->check(CLI::Range(0.0, 86400.0))
      ->option_text("SECONDS");
}

void add_runtime_flags(CLI::App* cmd, RuntimeFlags& flags, bool require_runtime) {
  auto* runtime = cmd->add_option("--runtime", flags.runtime,
                                  "Container runtime to configure: docker, containerd, crio, k3s" +
                                      std::string(require_runtime ? "" : " (default: the installed one)"))
                      ->check(CLI::IsMember({"docker", "containerd", "crio", "k3s"}));
  if (require_runtime) runtime->required();
  cmd->add_option("--config", flags.config,
                  "The runtime's config file, a host path under --root (default: its usual one, "
                  "e.g. /etc/containerd/config.toml)")
      ->option_text("PATH");
  cmd->add_option("--runtime-name", flags.runtime_name, "Name of the NVIDIA runtime (default nvidia)");
  cmd->add_option("--runtime-path", flags.runtime_path,
                  "The NVIDIA runtime's binary (default /usr/bin/nvidia-container-runtime)");
  cmd->add_flag("--set-as-default,!--no-set-as-default", flags.set_as_default,
                "Make it the default runtime (default: yes), so pods and containers get GPUs "
                "without naming the runtime");
  cmd->add_flag("--cdi", flags.cdi, "docker: also enable CDI (features.cdi)");
  auto* drop_in = cmd->add_flag_callback(
      "--drop-in", [&flags] { flags.drop_in = true; },
      "containerd: put the runtime in /etc/containerd/conf.d/99-nvidia.toml and import it from "
      "config.toml (default from containerd 2.1 on, whose imports merge deeply)");
  auto* no_drop_in = cmd->add_flag_callback(
      "--no-drop-in", [&flags] { flags.drop_in = false; },
      "containerd: edit config.toml in place, even where a drop-in would do");
  drop_in->excludes(no_drop_in);
  cmd->add_option("--templates", flags.templates,
                  "A site's templates directory on this machine (not under --root); a template "
                  "it lacks is read from the installed ones (default: `templates` in "
                  "/etc/gpu-node-setup/config.toml)")
      ->option_text("DIR");
  cmd->add_flag("--no-restart", flags.no_restart,
                "Do not restart the runtime after a change; it takes effect at its next start");
}

namespace {

void apply_driver_flags(const StageFlags& flags, DriverSettings& driver) {
  if (!flags.driver_branch.empty()) driver.branch = flags.driver_branch;
  if (!flags.driver_version.empty()) driver.version = flags.driver_version;
  if (!flags.driver_run.empty()) {
    if (flags.driver_run.front() != '/') throw UsageError("--driver-run must be an absolute host path (under --root)");
    driver.run_file = flags.driver_run;
  }
  if (!flags.driver_modules.empty())
    driver.modules = flags.driver_modules == "open" ? DriverModules::open : DriverModules::proprietary;
  if (flags.allow_unsigned_modules) driver.allow_unsigned_modules = true;
}

}  // namespace

Settings resolve_settings(const Context& ctx, const StageFlags& stage, const RuntimeFlags& runtime) {
  Settings settings = ctx.settings();
  // The site's file first, so that every flag below overrides it.
  if (stage.read_site_config) {
    const auto site = config::read_site_config(host::HostRoot(settings.root));
    if (site.templates_dir) settings.runtime.templates_dir = *site.templates_dir;
    settings.toolkit = site.toolkit;
    settings.driver = site.driver;
    settings.proxy = site.proxy;
  }
  if (!stage.toolkit_version.empty()) settings.toolkit.version = stage.toolkit_version;
  apply_driver_flags(stage, settings.driver);
  if (!runtime.templates.empty()) settings.runtime.templates_dir = runtime.templates;
  if (!runtime.runtime.empty()) settings.runtime.runtime = stages::parse_runtime_kind(runtime.runtime);
  if (!runtime.config.empty()) {
    if (runtime.config.front() != '/') throw UsageError("--config must be an absolute host path");
    settings.runtime.config_path = runtime.config;
  }
  settings.runtime.runtime_name = runtime.runtime_name;
  settings.runtime.runtime_path = runtime.runtime_path;
  settings.runtime.set_as_default = runtime.set_as_default;
  settings.runtime.cdi = runtime.cdi;
  settings.runtime.restart = !runtime.no_restart;
  settings.runtime.drop_in = runtime.drop_in;
  settings.reboot = stage.reboot;
  settings.lock_timeout = std::chrono::milliseconds(static_cast<long>(stage.lock_timeout_s * 1000));
  return settings;
}

StageCommand::StageCommand(const Context& ctx, const StageFlags& stage, const RuntimeFlags& runtime)
    : settings(resolve_settings(ctx, stage, runtime)),
      root(settings.root),
      runner(root, ctx.log_sink()),
      stages(stages::select_stages(settings, stage.stages)) {}

}  // namespace gns::cli
