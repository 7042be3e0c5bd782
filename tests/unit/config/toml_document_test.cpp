#include "config/toml_document.hpp"

#include <catch2/catch.hpp>

#include "error.hpp"

using gns::ConfigError;
using gns::config::parse_toml;

namespace {

std::string error_of(std::string_view text) {
  try {
    parse_toml(text, "/etc/x.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("TOML errors carry file, line and column", "[config]") {
  CHECK_THAT(error_of("version = 2\n[plugins\n"), Catch::StartsWith("/etc/x.toml:2:"));
  CHECK_THAT(error_of("a = 1\na = 2\n"), Catch::StartsWith("/etc/x.toml:2:"));
}

TEST_CASE("an unclosed multi-line string is reported where it opens", "[config]") {
  CHECK(error_of("version = 2\n[p]\n  image = \"\"\"registry\n  pause:3.9\n[grpc]\n  uid = 0\n") ==
        "/etc/x.toml:3:11: multi-line string opened here is never closed");
  CHECK_THAT(error_of("# a \"\"\" in a comment\nx = '''open\n"), Catch::StartsWith("/etc/x.toml:2:5:"));
  // Closed multi-line strings and quotes inside other strings do not confuse the scan.
  CHECK_THAT(error_of("a = \"\"\"x\ny\"\"\"\nb = \"q\\\"\"\"\"\nc = [\n"),
             !Catch::Contains("never closed"));
}

TEST_CASE("an unclosed one-line string is reported where it opens", "[config]") {
  CHECK(error_of("version = 2\n[plugins.cri]\n  sandbox_image = \"registry.k8s.io/pause:3.9\n"
                 "  [plugins.cri.cni]\n") ==
        "/etc/x.toml:3:19: string opened here is not closed before the end of its line");
  CHECK(error_of("a = 'x\nb = 1\n") ==
        "/etc/x.toml:1:5: string opened here is not closed before the end of its line");
  // A real control character inside a closed string keeps toml++'s own message.
  CHECK_THAT(error_of("a = \"x\x01y\"\n"), !Catch::Contains("not closed"));
  // An unclosed string on a later line than the fault does not take the blame.
  CHECK_THAT(error_of("a = = 1\nb = \"x\n"), Catch::StartsWith("/etc/x.toml:1:"));
}
