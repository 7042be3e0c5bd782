// gpu-node-setup: turns a plain Linux host into a working NVIDIA GPU node.
// main() parses the command line into a Context, lets the chosen subcommand run, and is
// the one place that turns a failure into a message and an exit status (STYLE.md 5).

#include <CLI/CLI.hpp>
#include <iostream>

#include "context.hpp"
#include "error.hpp"
#include "exit_code.hpp"
#include "host/host_lock.hpp"
#include "stages/engine.hpp"

#ifndef GNS_VERSION
#define GNS_VERSION "unknown"
#endif

namespace gns::cli {
namespace {

constexpr const char* k_footer = R"(Examples:
  gpu-node-setup detect                         # GPUs, driver, modules, runtimes on this host
  gpu-node-setup detect --json                  # the same as one JSON document
  gpu-node-setup --root /host detect            # a host mounted at /host (DaemonSet)
  gpu-node-setup detect --pci-dump lspci-x.txt  # hardware captured with `lspci -xxx`
  gpu-node-setup configure --runtime=containerd # add the NVIDIA runtime, make it the default
  gpu-node-setup plan                           # what apply would change, as diffs
  gpu-node-setup apply && gpu-node-setup status # do it; then applied / pending / drifted
  gpu-node-setup revert                         # undo it, byte for byte

Exit status: 0 ok (detect: a GPU was found), 1 error, 2 usage error, 3 no NVIDIA GPU,
4 locked by another run, 5 a config file cannot be understood, 6 revert refused,
7 reboot required (apply did what it could; reboot, then apply again).)";

void add_global_flags(CLI::App& app, Context& ctx) {
  app.add_option("--root", ctx.root,
                 "Act on the host whose root directory is DIR (default /); every host path "
                 "is resolved under it and commands run chrooted into it")
      ->option_text("DIR");
  app.add_option("--pci-dump", ctx.pci_dump,
                 "Read PCI devices from an `lspci -x`/`-xxx`/`-xxxx` dump instead of "
                 "<root>/sys/bus/pci (a path on this machine, not under --root)")
      ->option_text("FILE");
  app.add_flag("--json", ctx.json, "Print one JSON document instead of text");
  auto* verbose = app.add_flag("-v,--verbose", ctx.verbose, "Also log each step, each command and what it printed");
  app.add_flag("-q,--quiet", ctx.quiet, "Print only warnings and errors")->excludes(verbose);
}

// The one place that maps a failure to an exit status (README.md "Exit codes").
ExitCode exit_code_for(const std::exception& e) {
  if (dynamic_cast<const UsageError*>(&e)) return ExitCode::usage;
  if (dynamic_cast<const host::LockTimeout*>(&e)) return ExitCode::locked;
  if (dynamic_cast<const ConfigError*>(&e)) return ExitCode::invalid_config;
  if (dynamic_cast<const stages::RevertRefused*>(&e)) return ExitCode::revert_refused;
  if (const auto* refused = dynamic_cast<const PreflightRefused*>(&e)) {
    switch (refused->reason()) {
      case PreflightRefused::Reason::unsupported_distro: return ExitCode::unsupported_distro;
      case PreflightRefused::Reason::vgpu_guest: return ExitCode::vgpu_guest;
      case PreflightRefused::Reason::secure_boot_unsigned: return ExitCode::secure_boot_unsigned;
      case PreflightRefused::Reason::missing_kernel_headers: return ExitCode::missing_kernel_headers;
    }
  }
  return ExitCode::error;
}

}  // namespace
}  // namespace gns::cli

int main(int argc, char** argv) {
  using namespace gns::cli;
  CLI::App app{"Turns a Linux host into a working NVIDIA GPU node for Docker, containerd, "
               "Kubernetes/k3s and CRI-O; safe to run again and again.",
               "gpu-node-setup"};
  app.set_version_flag("--version", std::string("gpu-node-setup ") + GNS_VERSION);
  app.footer(k_footer);
  app.require_subcommand(0, 1);
  app.fallthrough();  // global flags may also follow the subcommand: `detect --json`

  Context ctx;
  add_global_flags(app, ctx);
  register_detect(app, ctx);
  register_plan(app, ctx);
  register_apply(app, ctx);
  register_configure(app, ctx);
  register_status(app, ctx);
  register_revert(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int status = app.exit(e);  // prints --help / --version, or the parse error
    return status == 0 ? 0 : static_cast<int>(ExitCode::usage);
  } catch (const std::exception& e) {
    std::cerr << "gpu-node-setup: error: " << e.what() << "\n";
    return static_cast<int>(exit_code_for(e));
  }
  // Checked after parsing, so that an unknown word is reported as unknown, not as missing.
  if (app.get_subcommands().empty()) {
    std::cerr << app.help() << "gpu-node-setup: error: no command given\n";
    return static_cast<int>(ExitCode::usage);
  }
  return static_cast<int>(ctx.exit_code);
}
