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

struct KeyFixture {
  void install_helper() const {
    dir.write(k_helper, "#!/bin/sh\n");
    fs::permissions(dir / k_helper, fs::perms(0755));
  }

  test::TempRoot dir;
  host::HostRoot root{dir.path()};
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

TEST_CASE("a local key is read from a file URL or a path inside the root", "[packages]") {
  KeyFixture f;
  f.dir.write("/etc/gns/nvidia.asc", k_armoured_key);
  f.dir.write("/etc/gns/nvidia.gpg", k_binary_key);
  CHECK(is_local_key("file:///etc/gns/nvidia.asc"));
  CHECK(is_local_key("/etc/gns/nvidia.gpg"));
  CHECK_FALSE(is_local_key(k_url));
  CHECK(read_local_key(f.root, "file:///etc/gns/nvidia.asc") == k_armoured_key);
  CHECK(read_local_key(f.root, "/etc/gns/nvidia.gpg") == k_binary_key);
}

TEST_CASE("a local key follows a link inside the root and never out of it", "[packages]") {
  KeyFixture f;
  f.dir.write("/srv/keys/nvidia.asc", k_armoured_key);
  f.dir.symlink("/srv/keys/nvidia.asc", "/etc/gns/key.asc");
  CHECK(read_local_key(f.root, "/etc/gns/key.asc") == k_armoured_key);
}

TEST_CASE("a local key that is missing in the root is an error", "[packages]") {
  KeyFixture f;
  CHECK_THROWS_AS(read_local_key(f.root, "file:///etc/gns/missing.asc"), Error);
  CHECK_THROWS_AS(read_local_key(f.root, "/etc/gns/missing.asc"), Error);
}

TEST_CASE("a file URL key without an absolute path is a config error", "[packages]") {
  KeyFixture f;
  CHECK_THROWS_AS(read_local_key(f.root, "file://localhost/etc/key.asc"), ConfigError);
}

TEST_CASE("a local key that is not an OpenPGP key is refused showing how it starts", "[packages]") {
  KeyFixture f;
  f.dir.write("/etc/gns/page.html", "<html>\n<body>Proxy login required</body></html>\n");
  CHECK_THROWS_WITH(read_local_key(f.root, "/etc/gns/page.html"),
                    Catch::Contains("the repository key /etc/gns/page.html is not an OpenPGP "
                                    "public key (it starts with \"<html>.<body>Proxy login "
                                    "required</body>\")") &&
                        Catch::Contains("nothing was changed"));
  f.dir.write("/etc/gns/empty", "");
  CHECK_THROWS_WITH(read_local_key(f.root, "/etc/gns/empty"), Catch::Contains("is not an OpenPGP public key"));
}

TEST_CASE("a downloaded key goes to an asc keyring unless its URL ends in gpg", "[packages]") {
  CHECK(downloaded_keyring_path("cuda-debian12", "https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/3bf863cc.pub") ==
        "/usr/share/keyrings/cuda-debian12-keyring.asc");
  CHECK(downloaded_keyring_path("nvidia-container-toolkit", "https://mirror.example/nvidia.gpg") ==
        "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg");
}

TEST_CASE("an https key is downloaded by apt-helper inside the root straight to its keyring", "[packages]") {
  KeyFixture f;
  f.install_helper();
  const auto keyring = "/usr/share/keyrings/nvidia-container-toolkit-keyring.asc";
  auto command = key_download_command(f.root, k_url, keyring, std::nullopt);
  REQUIRE(command);
  CHECK(command->argv() == Argv{k_helper, "download-file", k_url, keyring});
  CHECK(command->env.empty());
  const std::string proxy = "http://proxy.example:3128";
  command = key_download_command(f.root, "http://mirror.example/gpgkey", keyring, proxy);
  REQUIRE(command);
  CHECK(command->env == std::vector<std::pair<std::string, std::string>>{{"http_proxy", proxy}, {"https_proxy", proxy}});
}

TEST_CASE("no key download command without apt-helper in the root", "[packages]") {
  KeyFixture f;
  CHECK_FALSE(key_download_command(f.root, k_url, "/usr/share/keyrings/x.asc", std::nullopt));
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
      "# dnf and zypper read this; the key checks the repository's metadata (repo_gpgcheck, as\n"
      "# NVIDIA's container toolkit repository is signed) or each package (gpgcheck, as CUDA's).\n"
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

TEST_CASE("rpm repository file checks each package where the key signs packages", "[packages]") {
  // NVIDIA's CUDA repository signs its rpms, not its metadata; the toolkit's the other way.
  Repository cuda{"cuda-rhel9", "NVIDIA CUDA (rhel9)", "https://developer.download.nvidia.com/compute/cuda/repos/rhel9/x86_64/",
                  "https://developer.download.nvidia.com/compute/cuda/repos/rhel9/x86_64/D42D0685.pub", false, true};
  const auto text = render_repository_file(Family::dnf, cuda, "", {});
  CHECK_THAT(text, Catch::Contains("\ngpgcheck=1\nrepo_gpgcheck=0\n"));
  CHECK_THAT(render_repository_file(Family::dnf, nvidia("https://mirror.example/rpm"), "", {}),
             Catch::Contains("\ngpgcheck=0\nrepo_gpgcheck=1\n"));
}
