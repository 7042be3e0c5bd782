#include "config/site_config.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

#include "error.hpp"
#include "host/host_root.hpp"
#include "support/config_error.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::config;

namespace {

const std::string k_path = "/etc/gpu-node-setup/config.toml";

ConfigError site_config_error(const std::string& text) {
  test::TempRoot temp;
  return gns::test::config_error_from(
      [&] { parse_site_config(text, k_path, host::HostRoot(temp.path())); }, text);
}

}  // namespace

TEST_CASE("site config: absent, empty or comments only sets nothing", "[config]") {
  test::TempRoot temp;
  const host::HostRoot root(temp.path());
  CHECK_FALSE(read_site_config(root).templates_dir);
  temp.write(k_path, "# nothing yet\n\n");
  CHECK_FALSE(read_site_config(root).templates_dir);
}

TEST_CASE("site config: templates is a host path, resolved under the root", "[config]") {
  test::TempRoot temp;
  const host::HostRoot root(temp.path());
  temp.write(k_path, "# the site's own\ntemplates = \"/srv/gns-templates\"\n");
  const auto site = read_site_config(root);
  REQUIRE(site.templates_dir);
  CHECK(*site.templates_dir == temp / "/srv/gns-templates");
  // A link inside the root is followed inside it, never to this machine's /srv.
  temp.mkdir("/data/templates");
  temp.symlink("/data/templates", "/srv/linked");
  temp.write(k_path, "templates = \"/srv/linked\"\n");
  CHECK(*read_site_config(root).templates_dir == temp / "/data/templates");
}

TEST_CASE("site config: an unknown key is refused at its position", "[config]") {
  const auto e = site_config_error("templates = \"/srv/t\"\n\n  template_dir = \"/srv/t\"\n");
  CHECK(e.path() == k_path);
  CHECK(e.line() == 3);
  CHECK(e.column() == 3);
  CHECK_THAT(e.what(), Catch::Contains("unknown key \"template_dir\""));
  const auto table = site_config_error("[templates]\ndir = \"/srv/t\"\n");
  CHECK_THAT(table.what(), Catch::Contains("must be an absolute host path"));
  CHECK(table.line() == 1);
}

TEST_CASE("site config: templates must be an absolute path string", "[config]") {
  for (const std::string value : {"\"srv/t\"", "\"\"", "42", "[\"/srv/t\"]"}) {
    INFO(value);
    const auto e = site_config_error("templates = " + value + "\n");
    CHECK(e.line() == 1);
    CHECK(e.column() == 13);
    CHECK_THAT(e.what(), Catch::Contains("must be an absolute host path"));
  }
}

TEST_CASE("site config: a file that is not TOML is a ConfigError at its line", "[config]") {
  const auto e = site_config_error("templates = \"/srv/t\"\ntemplates = \"/srv/u\"\n");
  CHECK(e.path() == k_path);
  CHECK(e.line() == 2);
}

TEST_CASE("site config: the toolkit table sets version and repository and key", "[config]") {
  test::TempRoot temp;
  const host::HostRoot root(temp.path());
  temp.write(k_path,
             "templates = \"/srv/t\"\n"
             "proxy = \"http://proxy.example:3128\"\n"
             "\n"
             "[toolkit]  # the mirror of an air-gapped site\n"
             "version = \"1.17.8-1\"\n"
             "repository = \"https://mirror.example/nvidia-container-toolkit/deb/$(ARCH)\"\n"
             "key = \"https://mirror.example/nvidia-container-toolkit/gpgkey\"\n");
  const auto site = read_site_config(root);
  CHECK(site.templates_dir);
  CHECK(site.proxy == "http://proxy.example:3128");
  CHECK(site.toolkit.version == "1.17.8-1");
  CHECK(site.toolkit.repository_url == "https://mirror.example/nvidia-container-toolkit/deb/$(ARCH)");
  CHECK(site.toolkit.key_url == "https://mirror.example/nvidia-container-toolkit/gpgkey");
}

TEST_CASE("site config: without a toolkit table the toolkit settings are unset", "[config]") {
  test::TempRoot temp;
  const auto site = parse_site_config("templates = \"/srv/t\"\n", k_path, host::HostRoot(temp.path()));
  CHECK_FALSE(site.toolkit.version);
  CHECK_FALSE(site.toolkit.repository_url);
  CHECK_FALSE(site.toolkit.key_url);
  CHECK_FALSE(site.proxy);
}

TEST_CASE("site config: toolkit values take every form the package tools do", "[config]") {
  test::TempRoot temp;
  const host::HostRoot root(temp.path());
  const auto site = parse_site_config(
      "proxy = \"https://proxy.example\"\n"
      "toolkit = { version = \"1:1.17.8-1~ubuntu22.04\", repository = \"file:/srv/mirror/deb\", "
      "key = \"/etc/gns/nvidia.asc\" }\n",
      k_path, root);
  CHECK(site.toolkit.version == "1:1.17.8-1~ubuntu22.04");
  CHECK(site.toolkit.repository_url == "file:/srv/mirror/deb");
  CHECK(site.toolkit.key_url == "/etc/gns/nvidia.asc");  // a host path: read under the root
  CHECK(site.proxy == "https://proxy.example");
  CHECK(parse_site_config("[toolkit]\nversion = \"1.17.8-1.el9_4+git\"\nkey = \"file:///etc/k.asc\"\n",
                          k_path, root)
            .toolkit.key_url == "file:///etc/k.asc");
}

TEST_CASE("site config: an unknown toolkit key is refused at its position", "[config]") {
  const auto e = site_config_error("[toolkit]\nversion = \"1.17.8-1\"\n  mirror = \"https://m\"\n");
  CHECK(e.path() == k_path);
  CHECK(e.line() == 3);
  CHECK(e.column() == 3);
  CHECK(e.message() == "unknown key \"toolkit.mirror\" (known: version, repository, key)");
  // The proxy is for every package tool: it is a top-level key, not one of the toolkit's.
  const auto proxy = site_config_error("[toolkit]\nproxy = \"http://proxy.example:3128\"\n");
  CHECK(proxy.line() == 2);
  CHECK(proxy.column() == 1);
  CHECK_THAT(proxy.message(), Catch::StartsWith("unknown key \"toolkit.proxy\""));
}

TEST_CASE("site config: an unknown top-level key names the toolkit table among the known", "[config]") {
  const auto e = site_config_error("toolkits = 1\n");
  CHECK(e.line() == 1);
  CHECK(e.column() == 1);
  CHECK_THAT(e.message(), Catch::StartsWith("unknown key \"toolkits\" (known: templates, proxy, [toolkit]"));
}

TEST_CASE("site config: toolkit must be a table", "[config]") {
  const auto e = site_config_error("\ntoolkit = \"1.17.8-1\"\n");
  CHECK(e.line() == 2);
  CHECK(e.column() == 11);
  CHECK_THAT(e.message(), Catch::Contains("toolkit must be a table: [toolkit]"));
}

TEST_CASE("site config: each bad toolkit or proxy value is refused at the value", "[config]") {
  struct Case {
    std::string key;
    std::string value;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"version", "\"latest\"", "toolkit.version must be a package version in quotes"},
      {"version", "\"v1.17.8\"", "toolkit.version must be a package version in quotes"},
      {"version", "\"1.17.8 -1\"", "toolkit.version must be a package version in quotes"},
      {"version", "\"1.17.8;reboot\"", "toolkit.version must be a package version in quotes"},
      {"version", "\"\"", "toolkit.version must be a package version in quotes"},
      {"version", "1.17", "toolkit.version must be a package version in quotes"},
      {"repository", "\"ftp://mirror.example/deb\"", "toolkit.repository must be an https://, http:// or file: URL"},
      {"repository", "\"mirror.example/deb\"", "toolkit.repository must be an https://, http:// or file: URL"},
      {"repository", "\"https://mirror.example/my deb\"", "toolkit.repository must be an https://, http:// or file: URL"},
      {"repository", "[\"https://mirror.example/deb\"]", "toolkit.repository must be an https://, http:// or file: URL"},
      {"key", "\"gpgkey\"", "toolkit.key must be an https://, http:// or file: URL, or an absolute path"},
      {"key", "\"ftp://mirror.example/gpgkey\"", "toolkit.key must be an https://, http:// or file: URL, or an absolute path"},
      {"key", "true", "toolkit.key must be an https://, http:// or file: URL, or an absolute path"},
      {"proxy", "\"socks5://proxy.example:1080\"", "proxy must be an http:// or https:// URL"},
      {"proxy", "\"file:///proxy\"", "proxy must be an http:// or https:// URL"},
      {"proxy", "\"proxy.example:3128\"", "proxy must be an http:// or https:// URL"},
      {"proxy", "3128", "proxy must be an http:// or https:// URL"},
  };
  for (const auto& c : cases) {
    const std::string text = (c.key == "proxy" ? "\n" : "[toolkit]\n") + c.key + " = " + c.value + "\n";
    INFO(text);
    const auto e = site_config_error(text);
    CHECK(e.path() == k_path);
    CHECK(e.line() == 2);
    CHECK(e.column() == c.key.size() + 4);
    CHECK_THAT(e.message(), Catch::StartsWith(c.message));
  }
}
