#pragma once
// What every subcommand shares: the global flags, and the exit status its callback chose.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "exit_code.hpp"
#include "log.hpp"
#include "settings.hpp"

namespace gns::cli {

enum class Verbosity { quiet, normal, verbose };

struct Context {
  std::string root = "/";
  std::string pci_dump;  // empty: read sysfs
  bool json = false;
  bool verbose = false;
  bool quiet = false;
  ExitCode exit_code = ExitCode::ok;

  // The resolved Settings that src/ sees.
  Settings settings() const;
  // A sink that prints to stderr as --verbose / --quiet ask.
  LogSink log_sink() const;
};

// One per subcommand, in --help order (STYLE.md 3).
void register_detect(CLI::App& app, Context& ctx);
void register_plan(CLI::App& app, Context& ctx);
void register_apply(CLI::App& app, Context& ctx);
void register_configure(CLI::App& app, Context& ctx);
void register_status(CLI::App& app, Context& ctx);
void register_revert(CLI::App& app, Context& ctx);

}  // namespace gns::cli
