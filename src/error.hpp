#pragma once
// One error model for the whole tool (STYLE.md 5): failures are exceptions derived from Error,
// caught once in cli/main.cpp and mapped to an exit code. Expected absences (no GPU, no
// containerd) are values, never exceptions.

#include <stdexcept>
#include <string>
#include <vector>

namespace gns {

// A failure whose message is phrased for the person running the tool.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The command line asked for something that cannot be done as asked (bad flag combination).
class UsageError : public Error {
public:
  using Error::Error;
};

// A file the user owns (config.toml, daemon.json, a PCI dump) cannot be understood.
// `what()` starts with "path:line:col: " when the position is known.
class ConfigError : public Error {
public:
  // `path` is the file as the user would name it; `line`/`column` are 1-based, 0 when unknown.
  ConfigError(std::string path, unsigned line, unsigned column, const std::string& message);
  const std::string& path() const noexcept { return m_path; }
  unsigned line() const noexcept { return m_line; }
  unsigned column() const noexcept { return m_column; }
  // What is wrong, without the "path:line:col: " that what() starts with.
  const std::string& message() const noexcept { return m_message; }

private:
  std::string m_path;
  unsigned m_line;
  unsigned m_column;
  std::string m_message;
};

// An external program exited non-zero, was killed by a signal, or ran past its timeout.
class CommandFailed : public Error {
public:
  // `argv` is the full command line; `status` describes how it ended ("exit status 100",
  // "killed by signal 9", "timed out after 30 s"); `stderr_tail` is its last stderr lines.
  CommandFailed(std::vector<std::string> argv, const std::string& status,
                const std::string& stderr_tail);
  // `failed` with `more` (what it means for the run) added to its message.
  CommandFailed(const CommandFailed& failed, const std::string& more)
      : Error(failed.what() + more), m_argv(failed.m_argv) {}
  const std::vector<std::string>& argv() const noexcept { return m_argv; }

private:
  std::vector<std::string> m_argv;
};

// A run refused before changing anything, because the host is not one this can be done on as
// asked. Each reason has its own exit code (cli/exit_code.hpp), so a boot script can tell them
// apart; the message says what to do instead.
class PreflightRefused : public Error {
public:
  enum class Reason {
    unsupported_distro,      // no package system (apt, dnf, zypper) or driver path this tool knows
    vgpu_guest,              // a vGPU guest asked for a datacenter driver: it needs NVIDIA's GRID guest driver
    secure_boot_unsigned,    // Secure Boot is on and only unsigned (DKMS) modules could be installed
    missing_kernel_headers,  // DKMS needs the running kernel's headers, and no repository has them
  };
  PreflightRefused(Reason reason, const std::string& message) : Error(message), m_reason(reason) {}
  Reason reason() const noexcept { return m_reason; }

private:
  Reason m_reason;
};

// Joins `argv` into one line a person can paste into a shell (arguments with spaces quoted).
std::string format_command_line(const std::vector<std::string>& argv);

}  // namespace gns
