#include "host/container_runtimes.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/temp_root.hpp"

using namespace gns::host;
using gns::test::TempRoot;

namespace {

// Puts an executable stand-in for a program at host path `host_path`.
void add_program(const TempRoot& tmp, const std::string& host_path) {
  tmp.write(host_path, "#!/bin/sh\nexit 0\n");
  REQUIRE(::chmod((tmp / host_path).c_str(), 0755) == 0);
}

std::vector<ContainerRuntime> runtimes_of(const TempRoot& tmp) {
  return find_container_runtimes(HostRoot(tmp.path()));
}

// The containerd entry of `tmp`'s runtimes; fails the test when there is none.
ContainerRuntime containerd_of(const TempRoot& tmp) {
  for (auto& runtime : runtimes_of(tmp))
    if (runtime.name == "containerd") return runtime;
  FAIL("containerd was not found");
  return {};
}

}  // namespace

TEST_CASE("runtimes are found by their executables, in a fixed order", "[host]") {
  TempRoot tmp;
  add_program(tmp, "/usr/local/bin/k3s");
  add_program(tmp, "/usr/bin/crio");
  add_program(tmp, "/usr/bin/containerd");
  add_program(tmp, "/usr/bin/dockerd");

  auto runtimes = runtimes_of(tmp);
  REQUIRE(runtimes.size() == 4);
  CHECK(runtimes[0].name == "docker");
  CHECK(runtimes[0].binary == "/usr/bin/dockerd");
  CHECK(runtimes[1].name == "containerd");
  CHECK(runtimes[1].binary == "/usr/bin/containerd");
  CHECK(runtimes[2].name == "crio");
  CHECK(runtimes[2].binary == "/usr/bin/crio");
  CHECK(runtimes[3].name == "k3s");
  CHECK(runtimes[3].binary == "/usr/local/bin/k3s");
  for (const auto& runtime : runtimes) {
    INFO(runtime.name);
    CHECK_FALSE(runtime.config_path.has_value());
    CHECK_FALSE(runtime.config_version.has_value());
    CHECK_FALSE(runtime.config_error.has_value());
  }
}

TEST_CASE("a runtime whose file is not executable is not installed", "[host]") {
  TempRoot tmp;
  tmp.write("/usr/bin/dockerd", "left behind by a half-removed package");
  REQUIRE(::chmod((tmp / "/usr/bin/dockerd").c_str(), 0644) == 0);
  // The machine running the tests may have its own runtimes; the root must not see them.
  CHECK(runtimes_of(tmp).empty());
}

TEST_CASE("configs of the runtimes are reported by host path", "[host]") {
  TempRoot tmp;
  add_program(tmp, "/usr/bin/dockerd");
  add_program(tmp, "/usr/bin/crio");
  tmp.write("/etc/docker/daemon.json", "{}\n");
  auto runtimes = runtimes_of(tmp);
  REQUIRE(runtimes.size() == 2);
  CHECK(runtimes[0].config_path == std::string("/etc/docker/daemon.json"));
  CHECK_FALSE(runtimes[1].config_path.has_value());
}

TEST_CASE("containerd's config version is read from config.toml", "[host]") {
  TempRoot tmp;
  add_program(tmp, "/usr/bin/containerd");

  tmp.write("/etc/containerd/config.toml",
            "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"x\"\n");
  auto v2 = containerd_of(tmp);
  CHECK(v2.config_path == std::string("/etc/containerd/config.toml"));
  CHECK(v2.config_version == 2);
  CHECK_FALSE(v2.config_error.has_value());

  tmp.write("/etc/containerd/config.toml", "[plugins.cri]\n  sandbox_image = \"x\"\n");
  CHECK(containerd_of(tmp).config_version == 1);  // containerd's default for a missing key

  tmp.write("/etc/containerd/config.toml", "# containerd 2.x\nversion = 3\n");
  CHECK(containerd_of(tmp).config_version == 3);
}

TEST_CASE("containerd without a config has no version", "[host]") {
  TempRoot tmp;
  add_program(tmp, "/usr/bin/containerd");
  auto containerd = containerd_of(tmp);
  CHECK_FALSE(containerd.config_path.has_value());
  CHECK_FALSE(containerd.config_version.has_value());
}

TEST_CASE("a malformed containerd config is reported, not thrown", "[host]") {
  TempRoot tmp;
  add_program(tmp, "/usr/bin/containerd");
  tmp.write("/etc/containerd/config.toml", "version = 2\n\n[plugins\n  x = 1\n");
  std::vector<ContainerRuntime> runtimes;
  REQUIRE_NOTHROW(runtimes = runtimes_of(tmp));
  REQUIRE(runtimes.size() == 1);
  REQUIRE(runtimes[0].config_error.has_value());
  CHECK_THAT(*runtimes[0].config_error, Catch::StartsWith("/etc/containerd/config.toml:3:"));
  CHECK_FALSE(runtimes[0].config_version.has_value());
  CHECK(runtimes[0].config_path == std::string("/etc/containerd/config.toml"));
}

TEST_CASE("the container toolkit is installed when nvidia-ctk is executable", "[host]") {
  TempRoot tmp;
  CHECK_FALSE(find_container_toolkit(HostRoot(tmp.path())).installed());

  tmp.write("/usr/bin/nvidia-ctk", "not yet executable");
  CHECK_FALSE(find_container_toolkit(HostRoot(tmp.path())).installed());

  add_program(tmp, "/usr/bin/nvidia-ctk");
  auto toolkit = find_container_toolkit(HostRoot(tmp.path()));
  CHECK(toolkit.installed());
  CHECK(toolkit.nvidia_ctk == std::string("/usr/bin/nvidia-ctk"));
  CHECK_FALSE(toolkit.runtime_binary.has_value());
}

TEST_CASE("nvidia-container-runtime alone also counts as the toolkit", "[host]") {
  TempRoot tmp;
  add_program(tmp, "/usr/bin/nvidia-container-runtime");
  auto toolkit = find_container_toolkit(HostRoot(tmp.path()));
  CHECK(toolkit.installed());
  CHECK_FALSE(toolkit.nvidia_ctk.has_value());
  CHECK(toolkit.runtime_binary == std::string("/usr/bin/nvidia-container-runtime"));
}

TEST_CASE("the fixture GPU node has containerd with a version 2 config", "[host]") {
  HostRoot root(gns::test::test_fixture("roots/gpu-node"));
  auto runtimes = find_container_runtimes(root);
  REQUIRE(runtimes.size() == 1);
  CHECK(runtimes[0].name == "containerd");
  CHECK(runtimes[0].config_version == 2);
  CHECK(find_container_toolkit(root).installed());
}

// config_error is the documented place for "the config could not be read"; detect must still
// list the runtime rather than fail as a whole.
TEST_CASE("an unreadable containerd config is reported, not thrown", "[host]") {
  TempRoot tmp;
  add_program(tmp, "/usr/bin/containerd");
  tmp.mkdir("/etc/containerd/config.toml");
  std::vector<ContainerRuntime> runtimes;
  REQUIRE_NOTHROW(runtimes = runtimes_of(tmp));
  REQUIRE(runtimes.size() == 1);
  CHECK(runtimes[0].config_error.has_value());
  CHECK_FALSE(runtimes[0].config_version.has_value());
}
