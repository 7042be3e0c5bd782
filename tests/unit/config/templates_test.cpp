#include "config/templates.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "error.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::config;
namespace fs = std::filesystem;

// The unit tests run from the build tree, where nothing is installed beside them.
TEST_CASE("templates: a binary in its build tree reads the source tree's", "[config]") {
  const fs::path installed = installed_templates_dir();
  CHECK(fs::equivalent(installed, fs::path(GNS_TEST_FIXTURES_DIR) / "../../templates"));
  CHECK(fs::is_regular_file(installed / "docker/runtime.json"));
  CHECK(fs::is_regular_file(installed / "crio/99-nvidia.conf"));
  CHECK(templates_dir({}) == installed);
  const auto stock = read_template({}, "docker/runtime.json");
  CHECK(stock.path == (installed / "docker/runtime.json").string());
  CHECK(stock.text == test::read_file(installed / "docker/runtime.json"));
}

TEST_CASE("templates: a site's directory overrides file by file", "[config]") {
  test::TempRoot site;  // a plain directory here, not a host root
  site.write("/docker/runtime.json", "{\"path\": \"{{runtime_path}}\", \"runtimeArgs\": []}\n");
  const auto docker = read_template(site.path(), "docker/runtime.json");
  CHECK(docker.path == (site / "/docker/runtime.json").string());
  CHECK(docker.text == "{\"path\": \"{{runtime_path}}\", \"runtimeArgs\": []}\n");
  // What the site does not hold comes from the installed templates.
  const auto crio = read_template(site.path(), "crio/99-nvidia.conf");
  CHECK(crio.path == (installed_templates_dir() / "crio/99-nvidia.conf").string());
  CHECK(templates_dir(site.path()) == site.path());
}

TEST_CASE("templates: a relative site directory is taken from the working directory", "[config]") {
  CHECK(templates_dir("site-templates") == fs::current_path() / "site-templates");
}

TEST_CASE("templates: a site directory that is not there is an error, not a silent fallback",
          "[config]") {
  test::TempRoot temp;
  CHECK_THROWS_AS(read_template(temp / "/missing", "docker/runtime.json"), Error);
  CHECK_THROWS_WITH(read_template(temp / "/missing", "docker/runtime.json"),
                    Catch::Contains("is not a directory"));
  temp.write("/a-file", "");
  CHECK_THROWS_WITH(read_template(temp / "/a-file", "docker/runtime.json"),
                    Catch::Contains("is not a directory"));
}

TEST_CASE("templates: a template missing everywhere names the installed path", "[config]") {
  test::TempRoot site;
  CHECK_THROWS_WITH(
      read_template(site.path(), "nowhere/none.conf"),
      Catch::Contains((installed_templates_dir() / "nowhere/none.conf").string() + " is missing"));
}
