#pragma once
// Runner: the one door to external programs (DESIGN.md "The host boundary"). A command is a
// value (program + argv + timeout); running it returns how it ended and what it printed.
// Never a shell string, never a terminal: stdin is /dev/null so no prompt can hang cloud-init.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../log.hpp"
#include "host_root.hpp"

namespace gns::host {

struct Command {
  std::string program;             // a name looked up on PATH (inside the root), or a path
  std::vector<std::string> args;   // arguments, each passed as is
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // Variables set for this command on top of the tool's own environment and LC_ALL=C
  // (DEBIAN_FRONTEND=noninteractive for apt, so no debconf question waits for an answer).
  std::vector<std::pair<std::string, std::string>> env = {};

  // The whole argv: program first.
  std::vector<std::string> argv() const;
};

struct CommandResult {
  int exit_status = 0;             // the exit status when it exited normally
  std::optional<int> signal;       // the signal that killed it, if one did
  bool timed_out = false;          // true when the runner killed it at its timeout
  std::string out;                 // everything it wrote to stdout
  std::string err;                 // everything it wrote to stderr

  // True when it exited normally with status 0.
  bool succeeded() const { return !timed_out && !signal && exit_status == 0; }
  // How it ended, for messages: "exit status 3", "killed by signal 9", "timed out after 2 s".
  std::string describe_end(const Command& command) const;
};

class Runner {
public:
  virtual ~Runner() = default;

  // Runs `command` to its end or its timeout. Throws Error only when it cannot be started
  // at all (program not found); a non-zero exit is a result, not an exception.
  virtual CommandResult run(const Command& command) = 0;

  // Runs `command` and throws CommandFailed (with the tail of its stderr) unless it
  // exited with status 0.
  CommandResult run_checked(const Command& command);
};

// Runs real processes with Boost.Process. When the host root is not "/", each command runs
// chrooted into it, with the program looked up inside the root.
class ProcessRunner : public Runner {
public:
  // `root` says where commands run; `log` receives each command line before it starts.
  ProcessRunner(const HostRoot& root, LogSink log);

  CommandResult run(const Command& command) override;

private:
  std::string find_program(const std::string& program) const;
  // Logs (debug) every line `command` printed, and how it ended.
  void log_output(const Command& command, const CommandResult& result) const;

  const HostRoot& m_root;
  LogSink m_log;
};

}  // namespace gns::host
