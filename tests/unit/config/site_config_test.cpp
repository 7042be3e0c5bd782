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
