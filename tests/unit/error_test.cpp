#include "error.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace gns;

TEST_CASE("ConfigError prefixes its message with path:line:col", "[error]") {
  ConfigError error("/etc/containerd/config.toml", 12, 5, "expected '='");
  CHECK(std::string(error.what()) == "/etc/containerd/config.toml:12:5: expected '='");
  CHECK(error.path() == "/etc/containerd/config.toml");
  CHECK(error.line() == 12);
  CHECK(error.column() == 5);
}

TEST_CASE("ConfigError leaves out the parts of the position it does not know", "[error]") {
  CHECK(std::string(ConfigError("daemon.json", 3, 0, "bad").what()) == "daemon.json:3: bad");
  CHECK(std::string(ConfigError("daemon.json", 0, 0, "bad").what()) == "daemon.json: bad");
  // A column without a line means nothing to the reader, so it is dropped too.
  CHECK(std::string(ConfigError("daemon.json", 0, 9, "bad").what()) == "daemon.json: bad");
}

TEST_CASE("every error of the tool is caught as gns::Error", "[error]") {
  CHECK_THROWS_AS(throw ConfigError("x.toml", 1, 1, "bad"), Error);
  CHECK_THROWS_AS(throw UsageError("--dry-run and --yes"), Error);
  CHECK_THROWS_AS(throw CommandFailed({"false"}, "exit status 1", ""), Error);
}

TEST_CASE("format_command_line leaves plain arguments bare", "[error]") {
  CHECK(format_command_line({"systemctl", "restart", "containerd"}) ==
        "systemctl restart containerd");
  CHECK(format_command_line({"nvidia-ctk", "runtime", "configure", "--runtime=docker"}) ==
        "nvidia-ctk runtime configure --runtime=docker");
  CHECK(format_command_line({}).empty());
}

TEST_CASE("format_command_line quotes spaces, quotes and empty arguments", "[error]") {
  CHECK(format_command_line({"sh", "-c", "echo hi > /marker"}) == "sh -c 'echo hi > /marker'");
  CHECK(format_command_line({"printf", "%s", "a b", "c'd"}) == R"(printf %s 'a b' 'c'\''d')");
  CHECK(format_command_line({"echo", ""}) == "echo ''");
  CHECK(format_command_line({"echo", "tab\there"}) == "echo 'tab\there'");
  CHECK(format_command_line({"echo", R"(say "hi")"}) == R"(echo 'say "hi"')");
  CHECK(format_command_line({"echo", "$HOME"}) == "echo '$HOME'");
  CHECK(format_command_line({"echo", R"(back\slash)"}) == R"(echo 'back\slash')");
}

// The contract promises a line a person can paste into a shell; these arguments have no
// space or quote, yet a shell would split, glob, pipe or run them unquoted.
TEST_CASE("format_command_line quotes every shell metacharacter", "[error]") {
  CHECK(format_command_line({"sh", "-c", "a;b"}) == "sh -c 'a;b'");
  CHECK(format_command_line({"ls", "*.conf"}) == "ls '*.conf'");
  CHECK(format_command_line({"printf", "%s|", "x"}) == "printf '%s|' x");
  CHECK(format_command_line({"echo", "a&b"}) == "echo 'a&b'");
  CHECK(format_command_line({"echo", "x>y"}) == "echo 'x>y'");
  CHECK(format_command_line({"echo", "`id`"}) == "echo '`id`'");
  CHECK(format_command_line({"echo", "line1\nline2"}) == "echo 'line1\nline2'");
}

TEST_CASE("CommandFailed names how the command ended, the command line and stderr", "[error]") {
  CommandFailed error({"apt-get", "install", "-y", "cuda drivers"}, "exit status 100",
                      "E: Unable to locate package");
  CHECK(std::string(error.what()) ==
        "command failed (exit status 100): apt-get install -y 'cuda drivers'\n"
        "E: Unable to locate package");
  CHECK(error.argv() == std::vector<std::string>{"apt-get", "install", "-y", "cuda drivers"});
}

TEST_CASE("CommandFailed without stderr ends after the command line", "[error]") {
  CommandFailed error({"sleep", "30"}, "timed out after 2 s", "");
  CHECK(std::string(error.what()) == "command failed (timed out after 2 s): sleep 30");
}
