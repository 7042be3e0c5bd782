#include "packages/repository.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "error.hpp"
#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::packages;
namespace fs = std::filesystem;

namespace {

using Argv = std::vector<std::string>;

const std::string k_armoured_key =
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF3x...\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n";
// A binary key starts with an old-format public-key packet with a two-byte length.
const std::string k_binary_key = std::string("\x99\x02\x0d\x04", 4) + "binary key material";
const std::string k_helper = "/usr/lib/apt/apt-helper";
const std::string k_url = "https://nvidia.github.io/libnvidia-container/gpgkey";

// Where fetch_key has apt-helper download to, inside the root.
std::string download_target() { return "/var/lib/gpu-node-setup/downloads/key." + std::to_string(::getpid()); }
// Where the key was once downloaded: the world-writable /tmp, where anyone can plant a link.
std::string planted_link_path() { return "/tmp/gpu-node-setup-key." + std::to_string(::getpid()); }

// Records every command, as RecordingRunner does, and answers `apt-helper download-file URL
// PATH` by writing `bytes` at host path PATH inside `root`, as the real helper does.
class DownloadingRunner : public test::RecordingRunner {
public:
  DownloadingRunner(const test::TempRoot& root, std::string bytes)
      : m_root(root), m_bytes(std::move(bytes)) {}

  host::CommandResult run(const host::Command& command) override {
    auto result = RecordingRunner::run(command);
    if (command.args.size() == 3 && command.args[0] == "download-file")
      m_root.write(command.args[2], m_bytes);
    return result;
  }

private:
  const test::TempRoot& m_root;
  std::string m_bytes;
};

struct KeyFixture {
  void install_helper() const {
    dir.write(k_helper, "#!/bin/sh\n");
    fs::permissions(dir / k_helper, fs::perms(0755));
  }

  test::TempRoot dir;
  host::HostRoot root{dir.path()};
  test::RecordingRunner runner;
};

Repository nvidia(const std::string& url) {
  return {"nvidia-container-toolkit", "NVIDIA Container Toolkit", url, k_url};
}

}  // namespace

TEST_CASE("repository file path is the family's own directory and the id", "[packages]") {
  CHECK(repository_file_path(Family::apt, "nvidia-container-toolkit") ==
        "/etc/apt/sources.list.d/nvidia-container-toolkit.list");
  CHECK(repository_file_path(Family::dnf, "nvidia-container-toolkit") ==
        "/etc/yum.repos.d/nvidia-container-toolkit.repo");
  CHECK(repository_file_path(Family::zypper, "nvidia-container-toolkit") ==
        "/etc/zypp/repos.d/nvidia-container-toolkit.repo");
}

TEST_CASE("keyring path takes the extension apt reads the key's format by", "[packages]") {
  CHECK(keyring_path("nvidia-container-toolkit", true) ==
        "/usr/share/keyrings/nvidia-container-toolkit-keyring.asc");
  CHECK(keyring_path("nvidia-container-toolkit", false) ==
        "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg");
}

TEST_CASE("an armoured key is told from a binary one and from other text", "[packages]") {
  CHECK(is_armoured_key(k_armoured_key));
  CHECK_FALSE(is_armoured_key(k_binary_key));
  CHECK_FALSE(is_armoured_key("<html><body>302 Found</body></html>"));
  CHECK_FALSE(is_armoured_key("-----BEGIN PGP SIGNATURE-----\n"));
}

TEST_CASE("fetch key reads a file URL and a path inside the root and runs nothing", "[packages]") {
  KeyFixture f;
  f.dir.write("/etc/gns/nvidia.asc", k_armoured_key);
  f.dir.write("/etc/gns/nvidia.gpg", k_binary_key);
  CHECK(fetch_key(f.root, f.runner, "file:///etc/gns/nvidia.asc", std::nullopt) == k_armoured_key);
  CHECK(fetch_key(f.root, f.runner, "/etc/gns/nvidia.gpg", std::nullopt) == k_binary_key);
  CHECK(f.runner.commands().empty());
}

TEST_CASE("fetch key follows a link inside the root and never out of it", "[packages]") {
  KeyFixture f;
  f.dir.write("/srv/keys/nvidia.asc", k_armoured_key);
  f.dir.symlink("/srv/keys/nvidia.asc", "/etc/gns/key.asc");
  CHECK(fetch_key(f.root, f.runner, "/etc/gns/key.asc", std::nullopt) == k_armoured_key);
}

TEST_CASE("fetch key of a file that is missing in the root is an error", "[packages]") {
  KeyFixture f;
  CHECK_THROWS_AS(fetch_key(f.root, f.runner, "file:///etc/gns/missing.asc", std::nullopt), Error);
  CHECK_THROWS_AS(fetch_key(f.root, f.runner, "/etc/gns/missing.asc", std::nullopt), Error);
}

TEST_CASE("fetch key refuses what is not an OpenPGP key and shows how it starts", "[packages]") {
  KeyFixture f;
  f.dir.write("/etc/gns/page.html", "<html>\n<body>Proxy login required</body></html>\n");
  CHECK_THROWS_WITH(fetch_key(f.root, f.runner, "/etc/gns/page.html", std::nullopt),
                    Catch::Contains("the repository key from /etc/gns/page.html is not an OpenPGP "
                                    "public key (it starts with \"<html>.<body>Proxy login "
                                    "required</body>\")") &&
                        Catch::Contains("Nothing was changed"));
  f.dir.write("/etc/gns/empty", "");
  CHECK_THROWS_WITH(fetch_key(f.root, f.runner, "/etc/gns/empty", std::nullopt),
                    Catch::Contains("is not an OpenPGP public key"));
}

TEST_CASE("fetch key downloads an https URL with apt-helper inside the root", "[packages]") {
  KeyFixture f;
  f.install_helper();
  DownloadingRunner runner(f.dir, k_armoured_key);
  CHECK(fetch_key(f.root, runner, k_url, std::nullopt) == k_armoured_key);
  REQUIRE(runner.commands().size() == 1);
  const auto& download = runner.commands()[0];
  CHECK(download.argv() == Argv{k_helper, "download-file", k_url, download_target()});
  CHECK(download.env.empty());
  CHECK_FALSE(fs::exists(f.dir / download_target()));  // read, then removed
}

TEST_CASE("fetch key downloads through the configured proxy", "[packages]") {
  KeyFixture f;
  f.install_helper();
  DownloadingRunner runner(f.dir, k_binary_key);
  const std::string proxy = "http://proxy.example:3128";
  CHECK(fetch_key(f.root, runner, "http://mirror.example/gpgkey", proxy) == k_binary_key);
  REQUIRE(runner.commands().size() == 1);
  CHECK(runner.commands()[0].env ==
        std::vector<std::pair<std::string, std::string>>{{"http_proxy", proxy}, {"https_proxy", proxy}});
}

TEST_CASE("fetch key refuses a downloaded page that is not a key and leaves no temp file", "[packages]") {
  KeyFixture f;
  f.install_helper();
  DownloadingRunner runner(f.dir, "<!DOCTYPE html>");
  CHECK_THROWS_WITH(fetch_key(f.root, runner, k_url, std::nullopt),
                    Catch::Contains("is not an OpenPGP public key"));
  CHECK_FALSE(fs::exists(f.dir / download_target()));
}

TEST_CASE("fetch key without apt-helper says so and how to give the key as a file", "[packages]") {
  KeyFixture f;
  CHECK_THROWS_WITH(fetch_key(f.root, f.runner, k_url, std::nullopt),
                    Catch::Contains("cannot download the repository key " + k_url) &&
                        Catch::Contains("/usr/lib/apt/apt-helper is not installed") &&
                        Catch::Contains("key = \"/PATH\""));
  CHECK(f.runner.commands().empty());
}

TEST_CASE("fetch key reports a failed download with how apt-helper ended and its stderr", "[packages]") {
  KeyFixture f;
  f.install_helper();
  f.runner.respond(k_helper, {100, std::nullopt, false, "", "E: Failed to fetch gpgkey  404  Not Found\n"});
  CHECK_THROWS_WITH(fetch_key(f.root, f.runner, k_url, std::nullopt),
                    Catch::Contains("cannot download the repository key " + k_url) &&
                        Catch::Contains("exit status 100") &&
                        Catch::Contains("404  Not Found"));
  REQUIRE(f.runner.commands().size() == 1);
}

TEST_CASE("fetch key reports a download that succeeded but wrote no file", "[packages]") {
  KeyFixture f;
  f.install_helper();
  CHECK_THROWS_WITH(fetch_key(f.root, f.runner, k_url, std::nullopt),
                    Catch::Contains("cannot download the repository key"));
}

TEST_CASE("apt repository file names its keyring with signed-by", "[packages]") {
  const auto text = render_repository_file(
      Family::apt, nvidia("https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH)"),
      "/usr/share/keyrings/nvidia-container-toolkit-keyring.asc", {});
  CHECK(text ==
        "# Written by gpu-node-setup: NVIDIA Container Toolkit. `gpu-node-setup revert` removes it.\n"
        "deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.asc] "
        "https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n");
  CHECK_THAT(text, Catch::StartsWith(std::string(k_repository_marker)));
}

TEST_CASE("rpm repository file checks the metadata signature with the key URL", "[packages]") {
  const auto expected =
      "# Written by gpu-node-setup: NVIDIA Container Toolkit. `gpu-node-setup revert` removes it.\n"
      "# dnf and zypper read this; NVIDIA signs the repository's metadata (repo_gpgcheck).\n"
      "[nvidia-container-toolkit]\n"
      "name=NVIDIA Container Toolkit\n"
      "baseurl=https://nvidia.github.io/libnvidia-container/stable/rpm/$basearch\n"
      "enabled=1\n"
      "gpgcheck=0\n"
      "repo_gpgcheck=1\n"
      "gpgkey=https://nvidia.github.io/libnvidia-container/gpgkey\n";
  const auto repository = nvidia("https://nvidia.github.io/libnvidia-container/stable/rpm/$basearch");
  CHECK(render_repository_file(Family::dnf, repository, "", {}) == expected);
  CHECK(render_repository_file(Family::zypper, repository, "ignored for rpm", {}) == expected);
}

TEST_CASE("a site repository template without the marker is refused at its first line", "[packages]") {
  test::TempRoot site;
  site.write("/repos/apt.list", "deb [signed-by={{keyring}}] {{url}} /\n");
  try {
    render_repository_file(Family::apt, nvidia("https://mirror.example/deb"), "/k.asc", site.path());
    FAIL("a template without the marker was accepted");
  } catch (const ConfigError& e) {
    CHECK(e.path() == (site / "/repos/apt.list").string());
    CHECK(e.line() == 1);
    CHECK(e.column() == 1);
    CHECK_THAT(e.message(), Catch::Contains("must start with \"# Written by gpu-node-setup\""));
  }
}

TEST_CASE("a site repository template is used with the placeholders it names", "[packages]") {
  test::TempRoot site;
  site.write("/repos/rpm.repo",
             "# Written by gpu-node-setup for {{name}}\n[{{id}}]\nbaseurl={{url}}\nproxy=_none_\n");
  CHECK(render_repository_file(Family::dnf, nvidia("https://mirror.example/rpm"), "", site.path()) ==
        "# Written by gpu-node-setup for NVIDIA Container Toolkit\n[nvidia-container-toolkit]\n"
        "baseurl=https://mirror.example/rpm\nproxy=_none_\n");
  // An apt template names no key URL; asking for one is an error at its position.
  site.write("/repos/apt.list", "# Written by gpu-node-setup\ndeb [signed-by={{key_url}}] {{url}} /\n");
  try {
    render_repository_file(Family::apt, nvidia("https://mirror.example/deb"), "/k.asc", site.path());
    FAIL("an unknown placeholder was accepted");
  } catch (const ConfigError& e) {
    CHECK(e.line() == 2);
    CHECK(e.column() == 16);
    CHECK_THAT(e.message(), Catch::Contains("unknown placeholder {{key_url}}"));
  }
}

// Regression: the key was once downloaded to a predictable name in the world-writable /tmp
// (/tmp/gpu-node-setup-key.PID), then read and removed through HostRoot, which follows
// symlinks itself (so fs.protected_symlinks does not apply): whoever planted that name as a
// link made the run, as root, delete the file it pointed to and show its first bytes. Now it
// goes to /var/lib/gpu-node-setup/downloads, which only root can write; /tmp is not touched.
TEST_CASE("fetch key never deletes or shows the file a planted temp link points to",
          "[packages]") {
  KeyFixture f;
  f.install_helper();
  const std::string secret = "root:$6$secret-hash:19000:0:99999:7:::\n";
  // The download fails (no network): the file behind the link stays.
  f.dir.write("/etc/shadow", secret);
  f.dir.symlink("/etc/shadow", planted_link_path());
  f.runner.respond(k_helper, {100, std::nullopt, false, "", "E: Could not resolve 'nvidia.github.io'\n"});
  CHECK_THROWS_AS(fetch_key(f.root, f.runner, k_url, std::nullopt), Error);
  CHECK(fs::exists(f.dir / "/etc/shadow"));
  // apt-helper exits 0 and writes nothing: the error does not show the linked file.
  f.dir.write("/etc/shadow", secret);
  if (!fs::is_symlink(f.dir / planted_link_path())) f.dir.symlink("/etc/shadow", planted_link_path());
  CHECK_THROWS_WITH(fetch_key(f.root, f.runner, k_url, std::nullopt), !Catch::Contains("secret-hash"));
  CHECK(fs::exists(f.dir / "/etc/shadow"));
}

// Regression: `key = "/PATH"` is accepted by the site config and read as a path by the apt
// path; for dnf and zypper it went into the .repo verbatim as gpgkey=/PATH, but dnf.conf(5)
// and zypper read gpgkey as a URL: it is written file:///PATH.
TEST_CASE("rpm repository file names a key given as a path by its file URL",
          "[packages]") {
  Repository repository = nvidia("https://mirror.example/rpm");
  repository.key_url = "/etc/pki/rpm-gpg/nvidia.asc";
  CHECK_THAT(render_repository_file(Family::dnf, repository, "", {}),
             Catch::Contains("\ngpgkey=file:///etc/pki/rpm-gpg/nvidia.asc\n"));
}
