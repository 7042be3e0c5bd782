#include "host/runner.hpp"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "error.hpp"
#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace std::chrono_literals;
using gns::host::Command;
using gns::host::CommandResult;
using gns::host::HostRoot;
using gns::host::ProcessRunner;
using gns::test::read_file;
using gns::test::TempRoot;
namespace fs = std::filesystem;

namespace {

// Runs real programs of the machine the tests run on.
struct SystemRunner {
  HostRoot root{"/"};
  ProcessRunner runner{root, null_log_sink()};
};

std::chrono::duration<double> time_of(const std::function<void()>& body) {
  auto start = std::chrono::steady_clock::now();
  body();
  return std::chrono::steady_clock::now() - start;
}

// True while `pid` is a live process (a zombie counts as ended).
bool process_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

// Waits up to a second for `pid` to end: SIGKILL is asynchronous to the runner's return.
bool process_ends(pid_t pid) {
  for (int i = 0; i < 100 && process_alive(pid); ++i) std::this_thread::sleep_for(10ms);
  return !process_alive(pid);
}

pid_t read_pid(const fs::path& file) { return static_cast<pid_t>(std::stol(read_file(file))); }

// A shell script run with a short timeout; `$PID_FILE` in it names a file for a pid.
struct TimedOutRun {
  TempRoot tmp;
  fs::path pid_file = tmp / "/pid";
  CommandResult result;
  std::chrono::duration<double> elapsed{};

  explicit TimedOutRun(const std::string& script) {
    SystemRunner sys;
    Command command{"sh", {"-c", "PID_FILE=" + pid_file.string() + "; " + script}, 300ms};
    elapsed = time_of([&] { result = sys.runner.run(command); });
  }
  pid_t recorded_pid() const { return read_pid(pid_file); }
};

// Copies the real file `host_path` (following symlinks) to the same path under `root`.
void copy_into(const TempRoot& root, const std::string& host_path) {
  fs::create_directories((root / host_path).parent_path());
  fs::copy_file(host_path, root / host_path, fs::copy_options::overwrite_existing);
}

}  // namespace

TEST_CASE("RecordingRunner records argv and answers with queued results", "[host]") {
  test::RecordingRunner runner;
  CommandResult failure;
  failure.exit_status = 100;
  failure.err = "E: no such package\n";
  runner.respond("apt-get", failure);

  auto first = runner.run(Command{"apt-get", {"install", "-y", "cuda drivers"}, 60s});
  auto second = runner.run(Command{"apt-get", {"update"}});
  auto third = runner.run(Command{"systemctl", {"restart", "containerd"}});

  CHECK(first.exit_status == 100);
  CHECK(first.err == "E: no such package\n");
  CHECK(second.succeeded());
  CHECK(third.succeeded());
  REQUIRE(runner.commands().size() == 3);
  CHECK(runner.commands()[0].timeout == 60s);
  CHECK(runner.argvs() ==
        std::vector<std::vector<std::string>>{{"apt-get", "install", "-y", "cuda drivers"},
                                              {"apt-get", "update"},
                                              {"systemctl", "restart", "containerd"}});
}

TEST_CASE("run_checked turns a failed result into CommandFailed", "[host]") {
  test::RecordingRunner runner;
  CommandResult failure;
  failure.exit_status = 3;
  failure.err = "line 1\nline 2\n";
  runner.respond("modprobe", failure);
  CommandResult killed;
  killed.signal = SIGKILL;
  runner.respond("modprobe", killed);

  REQUIRE_THROWS_AS(runner.run_checked(Command{"modprobe", {"nvidia"}}), CommandFailed);
  CHECK_THROWS_WITH(runner.run_checked(Command{"modprobe", {"nvidia"}}),
                    Catch::Contains("killed by signal 9") && Catch::Contains("modprobe nvidia"));
  CHECK(runner.run_checked(Command{"modprobe", {"nvidia"}}).succeeded());
}

TEST_CASE("describe_end says how a command ended", "[host]") {
  Command command{"sleep", {"30"}, 2s};
  CommandResult result;
  result.exit_status = 3;
  CHECK(result.describe_end(command) == "exit status 3");
  result.signal = SIGTERM;
  CHECK(result.describe_end(command) == "killed by signal 15");
  result.timed_out = true;
  CHECK(result.describe_end(command) == "timed out after 2 s");
  CHECK(result.describe_end(Command{"sleep", {"30"}, 300ms}) == "timed out after 300 ms");
  CHECK_FALSE(result.succeeded());
}

TEST_CASE("ProcessRunner captures a zero exit and stdout", "[host]") {
  SystemRunner sys;
  auto result = sys.runner.run(Command{"echo", {"hello"}});
  CHECK(result.succeeded());
  CHECK(result.exit_status == 0);
  CHECK_FALSE(result.signal.has_value());
  CHECK(result.out == "hello\n");
  CHECK(result.err.empty());
}

TEST_CASE("ProcessRunner captures a non-zero exit status", "[host]") {
  SystemRunner sys;
  auto result = sys.runner.run(Command{"sh", {"-c", "exit 7"}});
  CHECK(result.exit_status == 7);
  CHECK_FALSE(result.signal.has_value());
  CHECK_FALSE(result.timed_out);
  CHECK_FALSE(result.succeeded());
}

TEST_CASE("ProcessRunner never reports a failing exit status as success", "[host]") {
  SystemRunner sys;
  for (int status : {1, 100, 127, 128, 255}) {
    INFO("exit " << status);
    auto result = sys.runner.run(Command{"sh", {"-c", "exit " + std::to_string(status)}});
    CHECK(result.exit_status == status);
    CHECK_FALSE(result.signal.has_value());
    CHECK_FALSE(result.succeeded());
  }
}

TEST_CASE("ProcessRunner keeps stdout and stderr apart", "[host]") {
  SystemRunner sys;
  auto result =
      sys.runner.run(Command{"sh", {"-c", "echo to-out; echo to-err >&2; echo more-out"}});
  CHECK(result.out == "to-out\nmore-out\n");
  CHECK(result.err == "to-err\n");
}

TEST_CASE("ProcessRunner passes each argument intact", "[host]") {
  SystemRunner sys;
  auto result = sys.runner.run(Command{"printf", {"%s|", "a b", "c'd", "", "$HOME", "*"}});
  CHECK(result.succeeded());
  CHECK(result.out == "a b|c'd||$HOME|*|");
}

TEST_CASE("ProcessRunner captures output larger than a pipe buffer", "[host]") {
  SystemRunner sys;
  auto result = sys.runner.run(
      Command{"sh", {"-c", "i=0; while [ $i -lt 20000 ]; do echo 0123456789; i=$((i+1)); done"}});
  CHECK(result.succeeded());
  CHECK(result.out.size() == 20000 * 11);
}

TEST_CASE("ProcessRunner kills a command at its timeout", "[host]") {
  TimedOutRun run("echo $$ > $PID_FILE; exec sleep 30");
  CHECK(run.result.timed_out);
  CHECK_FALSE(run.result.succeeded());
  CHECK(run.elapsed < 5s);
  CHECK(run.elapsed >= 250ms);
  CHECK(process_ends(run.recorded_pid()));
}

TEST_CASE("ProcessRunner kills a background grandchild that holds the pipes", "[host]") {
  TimedOutRun run("sleep 30 & echo $! > $PID_FILE; sleep 30");
  CHECK(run.result.timed_out);
  CHECK(run.elapsed < 5s);
  CHECK(process_ends(run.recorded_pid()));
}

TEST_CASE("ProcessRunner stops waiting for a grandchild in another session", "[host]") {
  // setsid puts the grandchild beyond the process-group kill; only the grace period ends it.
  TimedOutRun run("setsid sleep 30 & echo $! > $PID_FILE; sleep 30");
  CHECK(run.result.timed_out);
  CHECK(run.elapsed < 15s);
  pid_t grandchild = run.recorded_pid();
  if (process_alive(grandchild)) ::kill(grandchild, SIGKILL);
}

TEST_CASE("ProcessRunner reports the signal that killed a command", "[host]") {
  SystemRunner sys;
  auto result = sys.runner.run(Command{"sh", {"-c", "kill -TERM $$"}});
  REQUIRE(result.signal.has_value());
  CHECK(*result.signal == SIGTERM);
  CHECK_FALSE(result.timed_out);
  CHECK_FALSE(result.succeeded());
  CHECK(result.describe_end(Command{"sh", {}}) == "killed by signal 15");
}

TEST_CASE("ProcessRunner gives stdin end-of-file so nothing waits for input", "[host]") {
  SystemRunner sys;
  CommandResult result;
  auto elapsed = time_of([&] { result = sys.runner.run(Command{"cat", {}, 10s}); });
  CHECK_FALSE(result.timed_out);
  CHECK(elapsed < 5s);
  CHECK(result.succeeded());  // stdin is /dev/null: cat reads end-of-file, not EBADF
  CHECK(result.out.empty());
}

TEST_CASE("ProcessRunner run_checked reports exit status and stderr tail", "[host]") {
  SystemRunner sys;
  Command command{
      "sh",
      {"-c", "for i in 01 02 03 04 05 06 07 08 09 10 11 12; do echo err-$i >&2; done; exit 7"}};
  try {
    sys.runner.run_checked(command);
    FAIL("run_checked did not throw");
  } catch (const CommandFailed& e) {
    std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("exit status 7"));
    CHECK_THAT(what, Catch::Contains("err-12"));
    CHECK_THAT(what, Catch::Contains("err-03"));
    CHECK_THAT(what, !Catch::Contains("err-02"));
    CHECK(e.argv() == command.argv());
  }
}

TEST_CASE("ProcessRunner run_checked returns the result of a success", "[host]") {
  SystemRunner sys;
  CHECK(sys.runner.run_checked(Command{"echo", {"ok"}}).out == "ok\n");
  CHECK_THROWS_AS(sys.runner.run_checked(Command{"sh", {"-c", "kill -KILL $$"}}), CommandFailed);
  CHECK_THROWS_WITH(sys.runner.run_checked(Command{"sleep", {"30"}, 200ms}),
                    Catch::Contains("timed out after 200 ms"));
}

TEST_CASE("ProcessRunner throws Error for a program that does not exist", "[host]") {
  SystemRunner sys;
  CHECK_THROWS_AS(sys.runner.run(Command{"gns-no-such-program-7d1f", {}}), Error);
  for (int attempt = 0; attempt < 50; ++attempt)
    CHECK_THROWS_WITH(sys.runner.run(Command{"/nonexistent/gns-no-such-program", {}}),
                      Catch::Contains("execve failed: No such file"));
}

TEST_CASE("ProcessRunner logs the command line before it runs", "[host]") {
  TempRoot tmp;
  HostRoot root("/");
  const fs::path marker = tmp / "/ran";
  std::vector<std::pair<LogLevel, std::string>> logged;
  bool marker_before_first_log = true;
  ProcessRunner runner(root, [&](LogLevel level, std::string_view message) {
    if (logged.empty()) marker_before_first_log = fs::exists(marker);
    logged.emplace_back(level, std::string(message));
  });
  Command command{"sh", {"-c", ": > " + marker.string()}};
  REQUIRE(runner.run(command).succeeded());
  REQUIRE(logged.size() == 2);  // the command line, and how it ended
  CHECK(logged[0].first == LogLevel::debug);
  CHECK_THAT(logged[0].second, Catch::Contains(format_command_line(command.argv())));
  CHECK(logged[1] == std::pair<LogLevel, std::string>{LogLevel::debug, "  sh: exit status 0"});
  CHECK_FALSE(marker_before_first_log);
  CHECK(fs::exists(marker));
}

TEST_CASE("ProcessRunner logs every line a command printed after its name", "[host]") {
  HostRoot root("/");
  std::vector<std::string> logged;
  ProcessRunner runner(root, [&](LogLevel level, std::string_view message) {
    if (level == LogLevel::debug) logged.emplace_back(message);
  });
  Command command{"/bin/sh", {"-c", "echo 'Setting up nvidia-container-toolkit'; echo; echo 'W: a warning' >&2; exit 3"}};
  CHECK(runner.run(command).exit_status == 3);
  REQUIRE(logged.size() == 4);
  CHECK(logged[1] == "  sh: Setting up nvidia-container-toolkit");  // the empty line is left out
  CHECK(logged[2] == "  sh: W: a warning");
  CHECK(logged[3] == "  sh: exit status 3");
}

TEST_CASE("ProcessRunner runs commands chrooted into a root other than /", "[host]") {
  if (::geteuid() != 0) {
    WARN("not root: chroot(2) needs root, skipping");
    return;
  }
  TempRoot tmp;
  // A minimal root: the shell and the shared libraries it loads, at the same paths.
  SystemRunner sys;
  auto ldd = sys.runner.run_checked(Command{"ldd", {"/bin/sh"}});
  copy_into(tmp, "/bin/sh");
  fs::permissions(tmp / "/bin/sh", fs::perms(0755));
  std::istringstream words(ldd.out);
  for (std::string word; words >> word;)
    if (word.front() == '/') copy_into(tmp, word);

  const std::string marker = "/gns-chroot-marker-" + tmp.path().filename().string();
  HostRoot root(tmp.path());
  ProcessRunner runner(root, null_log_sink());
  auto result = runner.run(Command{"sh", {"-c", "echo hi > " + marker}});
  bool escaped = fs::exists(marker);
  if (escaped) fs::remove(marker);
  CHECK(result.succeeded());
  CHECK(read_file(tmp / marker) == "hi\n");
  CHECK_FALSE(escaped);
}

TEST_CASE("ProcessRunner never runs a command outside a root it cannot enter", "[host]") {
  TempRoot elsewhere;  // where the command would leave its mark if it ran unchrooted
  const fs::path marker = elsewhere.path() / "ran-on-the-wrong-root";
  std::optional<TempRoot> root(std::in_place);
  HostRoot host_root(root->path());
  root.reset();  // the root disappears after it was resolved: chroot into it must fail
  ProcessRunner runner(host_root, null_log_sink());

  // Many times: the child's report must reach the parent whole however the two are scheduled.
  for (int attempt = 0; attempt < 50; ++attempt)
    CHECK_THROWS_WITH(runner.run(Command{"/bin/sh", {"-c", "touch '" + marker.string() + "'"}}),
                      Catch::Contains("chroot into the --root directory failed: No such file"));
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("ProcessRunner stops its command when the tool itself is told to stop", "[host]") {
  TempRoot tmp;
  SystemRunner sys;
  const fs::path pid_file = tmp / "/pid";
  // SIGTERM to this process while the command runs, as cloud-init's timeout would send.
  std::thread stopper([] {
    std::this_thread::sleep_for(500ms);
    ::kill(::getpid(), SIGTERM);
  });
  auto elapsed = time_of([&] {
    CHECK_THROWS_WITH(
        sys.runner.run(Command{"sh", {"-c", "echo $$ > " + pid_file.string() + "; exec sleep 30"}, 20s}),
        Catch::Contains("stopped by signal 15"));
  });
  stopper.join();
  CHECK(elapsed < 10s);
  CHECK(process_ends(read_pid(pid_file)));
}
