#include "host/host_root.hpp"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "error.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using gns::host::HostRoot;
using gns::test::read_file;
using gns::test::TempRoot;
namespace fs = std::filesystem;

namespace {

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void set_mode(const fs::path& path, mode_t mode) { REQUIRE(::chmod(path.c_str(), mode) == 0); }

// The names write_atomic gives its temp files (".NAME.gns-XXXXXX") found in `dir`.
std::vector<std::string> temp_files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.front() == '.' && name.find(".gns-") != std::string::npos) names.push_back(name);
  }
  return names;
}

}  // namespace

TEST_CASE("HostRoot needs an existing directory", "[host]") {
  TempRoot tmp;
  tmp.write("/file", "x");
  CHECK_THROWS_AS(HostRoot(tmp / "/missing"), Error);
  CHECK_THROWS_AS(HostRoot(tmp / "/file"), Error);
  CHECK(HostRoot(tmp.path()).root() == tmp.path());
  CHECK(HostRoot("/").is_system_root());
  CHECK_FALSE(HostRoot(tmp.path()).is_system_root());
}

TEST_CASE("resolve keeps an absolute symlink inside the root", "[host]") {
  TempRoot tmp;
  tmp.symlink("/etc/shadow", "/etc/link");
  HostRoot root(tmp.path());
  CHECK(root.resolve("/etc/link") == tmp / "/etc/shadow");
  // The real /etc/shadow exists on every Linux host; the root's does not.
  CHECK_FALSE(root.read_if_exists("/etc/link").has_value());
  tmp.write("/etc/shadow", "root:*:19000:0:99999:7:::\n");
  CHECK(root.read("/etc/link") == "root:*:19000:0:99999:7:::\n");
}

TEST_CASE("resolve stops a relative symlink's .. chain at the root", "[host]") {
  TempRoot tmp;
  tmp.symlink("../../../../../etc/passwd", "/a/b/link");
  HostRoot root(tmp.path());
  CHECK(root.resolve("/a/b/link") == tmp / "/etc/passwd");
  CHECK(root.resolve("/../../../etc/passwd") == tmp / "/etc/passwd");
  CHECK(root.resolve("/") == tmp.path());
}

TEST_CASE("resolve follows directory symlinks and .. after them", "[host]") {
  TempRoot tmp;
  tmp.mkdir("/usr/lib/modprobe.d");
  tmp.symlink("usr/lib", "/lib");
  tmp.symlink("/usr/share/alternatives", "/etc/alternatives");
  HostRoot root(tmp.path());
  CHECK(root.resolve("/lib/modprobe.d/nvidia.conf") == tmp / "/usr/lib/modprobe.d/nvidia.conf");
  // ".." after a symlink climbs from the link's target, as the kernel does.
  CHECK(root.resolve("/etc/alternatives/../x") == tmp / "/usr/share/x");
  CHECK(root.resolve("/etc/./missing/file") == tmp / "/etc/missing/file");
}

TEST_CASE("resolve throws on symlink loops", "[host]") {
  TempRoot tmp;
  tmp.symlink("/b", "/a");
  tmp.symlink("a", "/b");
  tmp.symlink("self", "/self");
  HostRoot root(tmp.path());
  CHECK_THROWS_AS(root.resolve("/a"), Error);
  CHECK_THROWS_AS(root.resolve("/self/x"), Error);
  CHECK_THROWS_AS(root.exists("/a"), Error);
}

TEST_CASE("resolve rejects host paths that are not absolute", "[host]") {
  TempRoot tmp;
  HostRoot root(tmp.path());
  CHECK_THROWS_AS(root.resolve("etc/os-release"), Error);
  CHECK_THROWS_AS(root.resolve(""), Error);
  CHECK_THROWS_AS(root.read_if_exists("./etc/os-release"), Error);
}

TEST_CASE("read_if_exists returns exact bytes or nullopt", "[host]") {
  TempRoot tmp;
  const std::string bytes("\x06\x00\x00\x00\x01no newline", 15);
  tmp.write("/sys/var", bytes);
  tmp.write("/empty", "");
  HostRoot root(tmp.path());
  CHECK_FALSE(root.read_if_exists("/missing").has_value());
  CHECK_FALSE(root.read_if_exists("/sys/var/below-a-file").has_value());
  REQUIRE(root.read_if_exists("/sys/var").has_value());
  CHECK(*root.read_if_exists("/sys/var") == bytes);
  CHECK(root.read_if_exists("/empty") == std::string());
}

TEST_CASE("read_if_exists reads a file larger than one buffer", "[host]") {
  TempRoot tmp;
  std::string big(200000, 'x');
  big[0] = 'a';
  big.back() = 'z';
  tmp.write("/big", big);
  CHECK(HostRoot(tmp.path()).read("/big") == big);
}

TEST_CASE("read throws for a missing file and for a directory", "[host]") {
  TempRoot tmp;
  tmp.mkdir("/etc/docker");
  HostRoot root(tmp.path());
  CHECK_THROWS_AS(root.read("/etc/docker/daemon.json"), Error);
  CHECK_THROWS_AS(root.read("/etc/docker"), Error);
}

TEST_CASE("list returns sorted names and nothing for a missing directory", "[host]") {
  TempRoot tmp;
  tmp.write("/etc/modprobe.d/c.conf", "");
  tmp.write("/etc/modprobe.d/a.conf", "");
  tmp.write("/etc/modprobe.d/.hidden", "");
  tmp.mkdir("/etc/modprobe.d/b.d");
  tmp.symlink("/etc/modprobe.d", "/link");
  HostRoot root(tmp.path());
  const std::vector<std::string> expected{".hidden", "a.conf", "b.d", "c.conf"};
  CHECK(root.list("/etc/modprobe.d") == expected);
  CHECK(root.list("/link") == expected);
  CHECK(root.list("/run/modprobe.d").empty());
  CHECK(root.list("/etc/modprobe.d/a.conf").empty());
}

TEST_CASE("exists, is_directory and is_executable look through symlinks", "[host]") {
  TempRoot tmp;
  tmp.write("/etc/plain", "x");
  tmp.write("/usr/bin/tool", "#!/bin/sh\n");
  set_mode(tmp / "/usr/bin/tool", 0755);
  tmp.mkdir("/var/lib");
  tmp.symlink("/usr/bin/tool", "/bin-tool");
  tmp.symlink("/nowhere", "/dangling");
  HostRoot root(tmp.path());

  CHECK(root.exists("/etc/plain"));
  CHECK_FALSE(root.is_directory("/etc/plain"));
  CHECK_FALSE(root.is_executable("/etc/plain"));

  CHECK(root.exists("/var/lib"));
  CHECK(root.is_directory("/var/lib"));
  CHECK_FALSE(root.is_executable("/var/lib"));  // a directory's x bit is not a program

  CHECK(root.is_executable("/usr/bin/tool"));
  CHECK(root.is_executable("/bin-tool"));

  CHECK_FALSE(root.exists("/dangling"));
  CHECK_FALSE(root.exists("/missing"));
  CHECK_FALSE(root.is_directory("/missing"));
  CHECK_FALSE(root.is_executable("/missing"));
}

TEST_CASE("write_atomic gives a new file the requested mode", "[host]") {
  TempRoot tmp;
  HostRoot root(tmp.path());
  root.write_atomic("/etc/default.conf", "a\n");
  root.write_atomic("/etc/secret.conf", "b\n", 0600);
  CHECK(read_file(tmp / "/etc/default.conf") == "a\n");
  CHECK(mode_of(tmp / "/etc/default.conf") == 0644);
  CHECK(read_file(tmp / "/etc/secret.conf") == "b\n");
  CHECK(mode_of(tmp / "/etc/secret.conf") == 0600);
}

TEST_CASE("write_atomic replacing a file keeps its mode and shows the new bytes", "[host]") {
  TempRoot tmp;
  tmp.write("/etc/containerd/config.toml", "version = 2\n");
  set_mode(tmp / "/etc/containerd/config.toml", 0600);
  HostRoot root(tmp.path());
  root.write_atomic("/etc/containerd/config.toml", "version = 3\n", 0644);
  CHECK(read_file(tmp / "/etc/containerd/config.toml") == "version = 3\n");
  CHECK(mode_of(tmp / "/etc/containerd/config.toml") == 0600);
  CHECK(temp_files_in(tmp / "/etc/containerd").empty());
}

TEST_CASE("write_atomic replacing a file keeps its owner", "[host]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot give a file another owner");
    return;
  }
  TempRoot tmp;
  tmp.write("/etc/owned", "old");
  REQUIRE(::chown((tmp / "/etc/owned").c_str(), 4321, 4322) == 0);
  HostRoot(tmp.path()).write_atomic("/etc/owned", "new");
  struct stat st {};
  REQUIRE(::stat((tmp / "/etc/owned").c_str(), &st) == 0);
  CHECK(st.st_uid == 4321);
  CHECK(st.st_gid == 4322);
}

TEST_CASE("write_atomic leaves no temp file after success", "[host]") {
  TempRoot tmp;
  HostRoot root(tmp.path());
  root.write_atomic("/etc/a.conf", "1");
  root.write_atomic("/etc/a.conf", "2");
  root.write_atomic("/etc/b.conf", "");
  CHECK(temp_files_in(tmp / "/etc").empty());
  CHECK(root.list("/etc") == std::vector<std::string>{"a.conf", "b.conf"});
  CHECK(read_file(tmp / "/etc/b.conf").empty());
}

TEST_CASE("a failed write_atomic keeps the old state and removes its temp file", "[host]") {
  TempRoot tmp;
  // rename(2) cannot put a file over a directory, even for root, so the write fails late:
  // after the temp file was written.
  tmp.write("/etc/conf.d/keep.conf", "kept\n");
  tmp.write("/etc/other.conf", "other\n");
  HostRoot root(tmp.path());
  CHECK_THROWS_AS(root.write_atomic("/etc/conf.d", "new"), Error);
  CHECK(fs::is_directory(tmp / "/etc/conf.d"));
  CHECK(read_file(tmp / "/etc/conf.d/keep.conf") == "kept\n");
  CHECK(read_file(tmp / "/etc/other.conf") == "other\n");
  CHECK(temp_files_in(tmp / "/etc").empty());
}

TEST_CASE("write_atomic throws when a parent is a file", "[host]") {
  TempRoot tmp;
  tmp.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  HostRoot root(tmp.path());
  CHECK_THROWS_AS(root.write_atomic("/etc/passwd/x", "new"), Error);
  CHECK(read_file(tmp / "/etc/passwd") == "root:x:0:0::/root:/bin/sh\n");
  CHECK(temp_files_in(tmp / "/etc").empty());
}

TEST_CASE("write_atomic through a symlink writes the link's target inside the root", "[host]") {
  TempRoot tmp;
  // A target under the real / that no host has, so an escape would be seen, not harmful.
  const std::string outside = "/gns-host-root-test-" + tmp.path().filename().string();
  tmp.symlink(outside + "/real.conf", "/etc/link.conf");
  tmp.mkdir(outside);
  HostRoot root(tmp.path());
  root.write_atomic("/etc/link.conf", "through\n");
  CHECK(read_file(tmp / (outside + "/real.conf")) == "through\n");
  CHECK(fs::is_symlink(tmp / "/etc/link.conf"));
  CHECK_FALSE(fs::exists(fs::path(outside)));
}

TEST_CASE("write_atomic creates missing parent directories", "[host]") {
  TempRoot tmp;
  HostRoot root(tmp.path());
  root.write_atomic("/etc/nvidia-container-runtime/deep/config.toml", "x = 1\n");
  CHECK(read_file(tmp / "/etc/nvidia-container-runtime/deep/config.toml") == "x = 1\n");
  CHECK(fs::is_directory(tmp / "/etc/nvidia-container-runtime/deep"));
}

TEST_CASE("find_executable looks only at executables inside the root", "[host]") {
  TempRoot tmp;
  tmp.write("/usr/bin/nvidia-smi", "#!/bin/sh\n");
  set_mode(tmp / "/usr/bin/nvidia-smi", 0755);
  // Earlier in the search order, but not executable: skipped.
  tmp.write("/usr/sbin/nvidia-smi", "not a program");
  set_mode(tmp / "/usr/sbin/nvidia-smi", 0644);
  HostRoot root(tmp.path());
  CHECK(root.find_executable("nvidia-smi") == std::string("/usr/bin/nvidia-smi"));
  // The real host has /bin/sh; the root does not.
  CHECK_FALSE(root.find_executable("sh").has_value());
}

TEST_CASE("find_executable prefers /usr/local and sbin directories", "[host]") {
  TempRoot tmp;
  for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"}) {
    tmp.write(std::string(dir) + "/k3s", "");
    set_mode(tmp / (std::string(dir) + "/k3s"), 0755);
  }
  HostRoot root(tmp.path());
  CHECK(root.find_executable("k3s") == std::string("/usr/local/bin/k3s"));
}

TEST_CASE("kernel_release reads the root's osrelease without its newline", "[host]") {
  TempRoot tmp;
  tmp.write("/proc/sys/kernel/osrelease", "5.15.0-91-generic\n");
  CHECK(HostRoot(tmp.path()).kernel_release() == "5.15.0-91-generic");
}

TEST_CASE("kernel_release falls back to uname when osrelease is absent", "[host]") {
  TempRoot tmp;
  struct utsname names {};
  REQUIRE(::uname(&names) == 0);
  std::string release = HostRoot(tmp.path()).kernel_release();
  CHECK_FALSE(release.empty());
  CHECK(release == names.release);
  tmp.write("/proc/sys/kernel/osrelease", "\n");
  CHECK(HostRoot(tmp.path()).kernel_release() == names.release);
}

TEST_CASE("write_atomic removes the temp file a crashed earlier write left behind", "[host]") {
  TempRoot root;
  root.write("/etc/app.conf", "old\n");
  root.write("/etc/.app.conf.gns-Ab12Cd", "half written by a run that died\n");
  root.write("/etc/.app.conf.gns-keep-me", "not one of ours: wrong length\n");
  root.write("/etc/.other.conf.gns-Ab12Cd", "belongs to another file\n");
  HostRoot host(root.path());
  host.write_atomic("/etc/app.conf", "new\n");
  CHECK(read_file(root / "/etc/app.conf") == "new\n");
  CHECK_FALSE(fs::exists(root / "/etc/.app.conf.gns-Ab12Cd"));
  CHECK(fs::exists(root / "/etc/.app.conf.gns-keep-me"));
  CHECK(fs::exists(root / "/etc/.other.conf.gns-Ab12Cd"));
}
