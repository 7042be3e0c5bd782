#include "config/toml_spans.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <string_view>

#include "support/temp_root.hpp"

using namespace gns::config;

namespace {

std::string_view value_of(std::string_view text, const TomlKeyValue& pair) {
  return text.substr(pair.value_begin, pair.value_end - pair.value_begin);
}

std::string_view line_of(std::string_view text, size_t begin, size_t end) {
  return text.substr(begin, end - begin);
}

}  // namespace

TEST_CASE("headers are found with their paths, indentation and lines", "[config]") {
  const std::string text =
      "version = 2\n"
      "\n"
      "[plugins]\n"
      "  [plugins.\"io.containerd.grpc.v1.cri\" . 'containerd']  # a comment\n"
      "[[proxy]]\n";
  const TomlLayout layout = scan_toml_layout(text);
  REQUIRE(layout.headers.size() == 3);
  CHECK(layout.headers[0].path == KeyPath{"plugins"});
  CHECK(layout.headers[0].line == 3);
  const TomlHeader& cri = layout.headers[1];
  CHECK(cri.path == KeyPath{"plugins", "io.containerd.grpc.v1.cri", "containerd"});
  CHECK(cri.indent == 2);
  CHECK(line_of(text, cri.line_begin, cri.line_end) ==
        "  [plugins.\"io.containerd.grpc.v1.cri\" . 'containerd']  # a comment\n");
  CHECK(layout.headers[2].array);
  CHECK(layout.section_end(1, text.size()) == layout.headers[2].line_begin);
  CHECK(layout.section_end(2, text.size()) == text.size());
}

TEST_CASE("pairs have their full paths and the exact bytes of their values", "[config]") {
  const std::string text =
      "[a]\n"
      "  b.\"c.d\" = 'x' # not part of the value\n"
      "arr = [\n"
      "  \"[not] a header\",  # comment ]\n"
      "  [1, 2],\n"
      "]\n"
      "s = \"\"\"two\n"
      "[lines]\"\"\"\"\n"
      "when = 1979-05-27 07:32:00Z\n"
      "t = { x = 1, y = { z = \"}\" } }\n";
  const TomlLayout layout = scan_toml_layout(text);
  CHECK(layout.headers.size() == 1);
  REQUIRE(layout.keys.size() == 8);
  CHECK(layout.keys[0].path == KeyPath{"a", "b", "c.d"});
  CHECK(layout.keys[0].section_depth == 1);
  CHECK(layout.keys[0].header == 0);
  CHECK(value_of(text, layout.keys[0]) == "'x'");
  CHECK(layout.keys[0].key_begin - layout.keys[0].line_begin == 2);
  CHECK(value_of(text, layout.keys[1]).starts_with("[\n"));
  CHECK(value_of(text, layout.keys[1]).ends_with("]"));
  CHECK(layout.keys[1].line == 3);
  CHECK(value_of(text, layout.keys[2]) == "\"\"\"two\n[lines]\"\"\"\"");
  CHECK(value_of(text, layout.keys[3]) == "1979-05-27 07:32:00Z");
  CHECK(layout.keys[4].value_is_inline_table);
  CHECK(layout.keys[5].path == KeyPath{"a", "t", "x"});
  CHECK(layout.keys[5].in_inline_table);
  CHECK(layout.keys[7].path == KeyPath{"a", "t", "y", "z"});
  CHECK(value_of(text, layout.keys[7]) == "\"}\"");
  CHECK(line_of(text, layout.keys[4].line_begin, layout.keys[4].line_end) ==
        "t = { x = 1, y = { z = \"}\" } }\n");
}

TEST_CASE("the line ending is the file's own, and a last line may lack one", "[config]") {
  const std::string crlf = "a = 1\r\n[b]\r\nc = 2";
  const TomlLayout layout = scan_toml_layout(crlf);
  CHECK(layout.newline == "\r\n");
  REQUIRE(layout.keys.size() == 2);
  CHECK(layout.keys[0].line_end == 7);
  CHECK(layout.keys[1].line_end == crlf.size());
  CHECK(scan_toml_layout("a = 1\n").newline == "\n");
  const TomlLayout bom = scan_toml_layout("\xEF\xBB\xBFversion = 2\n");
  REQUIRE(bom.keys.size() == 1);
  CHECK(bom.keys[0].path == KeyPath{"version"});
  CHECK(scan_toml_layout("").keys.empty());
}

TEST_CASE("escaped quoted keys are read as the key they stand for", "[config]") {
  const TomlLayout layout = scan_toml_layout("\"caf\\u00e9\\\"s\" = 1\n");
  REQUIRE(layout.keys.size() == 1);
  CHECK(layout.keys[0].path == KeyPath{"caf\xC3\xA9\"s"});
}

TEST_CASE("keys and strings are written as TOML", "[config]") {
  CHECK(render_key({"plugins", "io.containerd.grpc.v1.cri", "containerd"}) ==
        "plugins.\"io.containerd.grpc.v1.cri\".containerd");
  CHECK(render_key({"plugins", "io.containerd.cri.v1.runtime"}, '\'') ==
        "plugins.'io.containerd.cri.v1.runtime'");
  CHECK(render_key({""}) == "\"\"");
  CHECK(render_string("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"");
  CHECK(render_string("/usr/bin/x", '\'') == "'/usr/bin/x'");
  CHECK(render_string("it's", '\'') == "\"it's\"");
  CHECK(render_string(std::string(1, '\x01')) == "\"\\u0001\"");
}

TEST_CASE("on every valid TOML file of the shared corpus, each pair's bytes are its value",
          "[config]") {
  namespace fs = std::filesystem;
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(gns::test::shared_fixture("runtime-configs"))) {
    const std::string text = gns::test::read_file(entry.path());
    toml::table root;
    try {
      root = toml::parse(text);
    } catch (const toml::parse_error&) {
      continue;  // not TOML (JSON, YAML, templates): nothing to compare with
    }
    ++files;
    INFO(entry.path().filename().string());
    const TomlLayout layout = scan_toml_layout(text);
    for (const TomlKeyValue& pair : layout.keys) {
      INFO(render_key(pair.path) << " at line " << pair.line);
      const toml::node* node = &root;
      for (const auto& part : pair.path) {
        const toml::table* table = node ? node->as_table() : nullptr;
        node = table ? table->get(part) : nullptr;
      }
      // Below [[array.of.tables]] a path does not say which table; those are not compared.
      if (!node && std::any_of(layout.headers.begin(), layout.headers.end(),
                               [](const TomlHeader& h) { return h.array; }))
        continue;
      REQUIRE(node);
      toml::table expected;
      expected.insert("x", *node);
      CHECK(toml::parse("x = " + std::string(value_of(text, pair))) == expected);
    }
  }
  CHECK(files > 50);
}
