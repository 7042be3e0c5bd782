#include "config/templates.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>

#include "error.hpp"
#include "support/config_error.hpp"
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

namespace {

const std::string k_template_path = "/usr/share/gpu-node-setup/templates/repos/apt.list";

ConfigError render_error(const std::string& text, const std::map<std::string, std::string>& values) {
  return gns::test::config_error_from([&] { render_placeholders({k_template_path, text}, values); }, text);
}

}  // namespace

TEST_CASE("render placeholders puts each value in verbatim and leaves other text alone", "[config]") {
  const Template tpl{k_template_path, "# {{name}}\ndeb [signed-by={{keyring}}] {{url}} / # {{name}}\n}} {\n"};
  CHECK(render_placeholders(tpl, {{"name", "NVIDIA"}, {"keyring", "/k.asc"}, {"url", "https://m/$(ARCH)"}}) ==
        "# NVIDIA\ndeb [signed-by=/k.asc] https://m/$(ARCH) / # NVIDIA\n}} {\n");
  // A value is not read for placeholders again, and values the template does not use are fine.
  CHECK(render_placeholders({k_template_path, "a={{a}}\n"}, {{"a", "{{b}}"}, {"b", "never"}}) ==
        "a={{b}}\n");
  CHECK(render_placeholders({k_template_path, "no placeholders\n"}, {}) == "no placeholders\n");
  CHECK(render_placeholders({k_template_path, ""}, {}).empty());
}

TEST_CASE("render placeholders reports an unknown placeholder at its line and column", "[config]") {
  const auto e = render_error("{{name}}\n{{url}}\n\n  deb {{url}} {{keyring}}\n", {{"name", "n"}, {"url", "u"}});
  CHECK(e.path() == k_template_path);
  CHECK(e.line() == 4);
  CHECK(e.column() == 15);
  CHECK(e.message() == "unknown placeholder {{keyring}}; this template knows {{name}}, {{url}}");
  CHECK_THAT(e.what(), Catch::StartsWith(k_template_path + ":4:15: "));
}

TEST_CASE("render placeholders with no values says the template knows none", "[config]") {
  const auto e = render_error("x = {{ name }}\n", {});
  CHECK(e.line() == 1);
  CHECK(e.column() == 5);
  CHECK(e.message() == "unknown placeholder {{ name }}; this template knows none");
}

TEST_CASE("render placeholders reports an unclosed placeholder where it opens", "[config]") {
  const auto e = render_error("{{name}}\nbaseurl={{url\n}}\n", {{"name", "n"}, {"url", "u"}});
  CHECK(e.line() == 2);
  CHECK(e.column() == 9);
  CHECK(e.message() == "\"{{\" is not closed by \"}}\" on its line");
  const auto at_end = render_error("a {{name}} b {{name", {{"name", "n"}});
  CHECK(at_end.line() == 1);
  CHECK(at_end.column() == 14);
}
