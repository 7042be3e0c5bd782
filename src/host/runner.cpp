#include "runner.hpp"

#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <future>
#include <system_error>
#include <thread>

#include "../error.hpp"
#include "../util/strings.hpp"

namespace gns::host {
namespace bp = boost::process;

namespace {

// Time a killed command gets to let its pipes close before we stop reading them.
constexpr auto k_kill_grace = std::chrono::seconds(5);

// Why a child could not become the command, sent from the child to the parent.
enum class ChildFailure : int { chroot = 1, exec = 2 };

// Runs in the forked child in place of Boost's exec: its own process group, so a timeout can
// kill everything it started; a chroot into a --root other than "/"; then our execve.
// Exec'ing here has two reasons: Boost 1.74 builds argv with &arg.front(), undefined for an
// empty argument, so Boost is only given the program; and when a handler reports an error
// Boost still goes on to its own execve, which after a failed chroot would run the command
// on the wrong root. A failure is reported on our own close-on-exec pipe in one write (atomic
// below PIPE_BUF), not through Boost's set_error: Boost 1.74 writes its report in two writes
// and reads it with one read, so a parent that reads between them builds a string from an
// uninitialised length. Only async-signal-safe calls here: the parent may have threads.
struct ChildExec : bp::extend::handler {
  const char* exe = nullptr;
  std::vector<char*> argv;      // null-terminated, pointing into the Command's strings
  const char* chroot_dir = nullptr;  // null: stay in "/"
  int failure_fd = -1;          // write end of the report pipe; closed by a successful exec

  template <class Executor>
  void on_exec_setup(Executor& exec) const {
    ::setpgid(0, 0);
    if (chroot_dir != nullptr && (::chroot(chroot_dir) != 0 || ::chdir("/") != 0))
      fail(ChildFailure::chroot);
    ::execve(exe, argv.data(), exec.env);
    fail(ChildFailure::exec);
  }

  [[noreturn]] void fail(ChildFailure what) const {
    const int report[2] = {static_cast<int>(what), errno};
    [[maybe_unused]] auto written = ::write(failure_fd, report, sizeof report);
    ::_exit(127);  // the child must never return into the parent's code
  }
};

// Both ends of a close-on-exec pipe, closed when it goes out of scope.
class FailurePipe {
 public:
  FailurePipe() {
    if (::pipe2(m_fds, O_CLOEXEC) != 0)
      throw Error(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  ~FailurePipe() {
    close_write_end();
    ::close(m_fds[0]);
  }
  FailurePipe(const FailurePipe&) = delete;
  FailurePipe& operator=(const FailurePipe&) = delete;

  int write_end() const { return m_fds[1]; }
  void close_write_end() {
    if (m_fds[1] >= 0) ::close(m_fds[1]);
    m_fds[1] = -1;
  }
  // After the fork: end-of-file means the child exec'ed; otherwise why it could not.
  std::optional<std::string> child_failure() {
    close_write_end();
    int report[2] = {0, 0};
    ssize_t count;
    while ((count = ::read(m_fds[0], report, sizeof report)) < 0 && errno == EINTR) {
    }
    if (count <= 0) return std::nullopt;
    const char* what = report[0] == static_cast<int>(ChildFailure::chroot)
                           ? "chroot into the --root directory failed"
                           : "execve failed";
    return std::string(what) + ": " + std::strerror(report[1]);
  }

 private:
  int m_fds[2] = {-1, -1};
};

std::string last_lines(const std::string& text, size_t count) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  size_t start = end;
  for (size_t lines = 0; start > 0 && lines < count; --start)
    if (text[start - 1] == '\n' && ++lines == count) break;
  return text.substr(start, end - start);
}

std::string future_text(std::future<std::string>& future) {
  using namespace std::chrono_literals;
  return future.wait_for(0s) == std::future_status::ready ? future.get() : std::string();
}

// Polls for the child's exit for at most `limit`; true once it has been reaped.
bool reaped_within(bp::child& child, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::error_code ec;
  while (child.running(ec)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void record_wait_status(int status, CommandResult& result) {
  if (WIFSIGNALED(status))
    result.signal = WTERMSIG(status);
  else
    result.exit_status = WEXITSTATUS(status);
}

}  // namespace

std::vector<std::string> Command::argv() const {
  std::vector<std::string> all{program};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

std::string CommandResult::describe_end(const Command& command) const {
  if (timed_out) {
    auto ms = command.timeout.count();
    return "timed out after " + (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s"
                                                 : std::to_string(ms) + " ms");
  }
  if (signal) return "killed by signal " + std::to_string(*signal);
  return "exit status " + std::to_string(exit_status);
}

CommandResult Runner::run_checked(const Command& command) {
  CommandResult result = run(command);
  if (!result.succeeded())
    throw CommandFailed(command.argv(), result.describe_end(command), last_lines(result.err, 10));
  return result;
}

void ProcessRunner::log_output(const Command& command, const CommandResult& result) const {
  // What apt, dnf or an installer said goes to the log (-v), a line at a time, after its name.
  const std::string prefix = "  " + command.program.substr(command.program.rfind('/') + 1) + ": ";
  for (const std::string* text : {&result.out, &result.err})
    for (auto line : util::lines_of(*text))
      if (!line.empty()) m_log(LogLevel::debug, prefix + std::string(line));
  m_log(LogLevel::debug, prefix + result.describe_end(command));
}

ProcessRunner::ProcessRunner(const HostRoot& root, LogSink log)
    : m_root(root), m_log(std::move(log)) {}

std::string ProcessRunner::find_program(const std::string& program) const {
  if (program.find('/') != std::string::npos) return program;
  if (m_root.is_system_root()) {
    auto found = bp::search_path(program);
    if (found.empty()) throw Error("program not found on PATH: " + program);
    return found.string();
  }
  // Inside another root its PATH is unknown: look in the standard program directories.
  if (auto found = m_root.find_executable(program)) return *found;
  throw Error("program not found in " + m_root.root().string() + ": " + program);
}

CommandResult ProcessRunner::run(const Command& command) {
  std::string exe = find_program(command.program);
  m_log(LogLevel::debug, "running: " + format_command_line(command.argv()));

  boost::asio::io_context events;
  std::future<std::string> out;
  std::future<std::string> err;
  const std::vector<std::string> argv = command.argv();
  const std::string chroot_dir = m_root.root().string();
  ChildExec child_exec;
  child_exec.exe = exe.c_str();
  for (const auto& arg : argv) child_exec.argv.push_back(const_cast<char*>(arg.c_str()));
  child_exec.argv.push_back(nullptr);
  if (!m_root.is_system_root()) child_exec.chroot_dir = chroot_dir.c_str();
  FailurePipe failure_pipe;
  child_exec.failure_fd = failure_pipe.write_end();

  // A SIGINT/SIGTERM/SIGHUP while the command runs (cloud-init's timeout, an operator's
  // Ctrl-C) must not leave it running on without us: it is stopped, and the run ends with an
  // Error that unwinds the lock and temp files. Set up before the child starts, so no signal
  // falls between; cancelled when it exits, so the loop can end.
  boost::asio::signal_set stop_signals(events, SIGINT, SIGTERM, SIGHUP);
  std::error_code start_error;
  // stdin is /dev/null: a command that asks a question reads end-of-file instead of hanging.
  // on_exit makes the event loop wait for the exit too; the raw wait status is read from
  // native_exit_code() afterwards, as the handler's argument is already decoded.
  bp::environment environment = boost::this_process::environment();
  environment["LC_ALL"] = "C";  // messages we match and quote are in English
  for (const auto& [name, value] : command.env) environment[name] = value;
  bp::child child(bp::exe = exe, bp::std_in < bp::null, bp::std_out > out, bp::std_err > err,
                  environment, events,
                  bp::on_exit([&stop_signals](int, const std::error_code&) { stop_signals.cancel(); }),
                  child_exec, start_error);
  if (start_error)
    throw Error("cannot start " + format_command_line(command.argv()) + ": " +
                start_error.message());
  if (auto failure = failure_pipe.child_failure()) {
    std::error_code ignored;
    child.wait(ignored);  // it has already exited with 127
    throw Error("cannot start " + format_command_line(command.argv()) + ": " + *failure);
  }
  std::optional<int> stopped_by;
  stop_signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    stopped_by = signal;
    ::kill(-child.id(), SIGTERM);
  });

  CommandResult result;
  events.run_for(command.timeout);
  if (!events.stopped()) {
    result.timed_out = true;
    ::kill(-child.id(), SIGKILL);
    events.run_for(k_kill_grace);
    if (!events.stopped()) {
      // A grandchild in another process group still holds the pipes: stop reading.
      events.stop();
      if (!reaped_within(child, k_kill_grace)) {
        // Stuck in the kernel (a wedged GPU driver): never wait on it without a bound.
        child.detach();
        result.signal = SIGKILL;
        return result;
      }
    }
  }
  if (stopped_by)
    throw Error("stopped by signal " + std::to_string(*stopped_by) + " while running " +
                format_command_line(command.argv()) + " (which was stopped too)");
  record_wait_status(child.native_exit_code(), result);
  result.out = future_text(out);
  result.err = future_text(err);
  log_output(command, result);
  return result;
}

}  // namespace gns::host
