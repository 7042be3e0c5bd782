#include "config/k3s_config.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "config/templates.hpp"
#include "error.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::config;
namespace fs = std::filesystem;

namespace {

const std::string k_path = "/etc/rancher/k3s/config.yaml";

// The shipped template, rendered for "nvidia": what a host's config.yaml gets appended.
std::string shipped_addition() {
  auto shipped = read_template({}, "k3s/config.yaml");
  return render_k3s_addition(shipped.text, shipped.path, "nvidia");
}

K3sEdit set_nvidia(std::string_view text) {
  return set_k3s_default_runtime(text, k_path, "nvidia", shipped_addition());
}

// remove(set(x)) as revert --force runs it, from what the edit recorded.
std::string round_trip(const std::string& original) {
  K3sEdit set = set_nvidia(original);
  return remove_k3s_default_runtime(set.text, k_path, "nvidia", set.previous_default, set.appended)
      .text;
}

std::vector<fs::path> k3s_yaml_corpus() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(test::shared_fixture("runtime-configs")))
    if (entry.path().filename().string().starts_with("k3syaml--")) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string with_crlf(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
  return out;
}

// The three forms a file of the corpus is checked in: as published, with CRLF line endings,
// and without its final newline.
std::vector<std::string> variants(const std::string& text) {
  std::string no_eol = text;
  while (!no_eol.empty() && no_eol.back() == '\n') no_eol.pop_back();
  return {text, with_crlf(text), no_eol};
}

}  // namespace

TEST_CASE("k3s: the shipped template adds one commented default-runtime line", "[k3s]") {
  std::string addition = shipped_addition();
  CHECK_THAT(addition, Catch::StartsWith("# "));
  CHECK_THAT(addition, Catch::EndsWith("\ndefault-runtime: nvidia\n"));
}

TEST_CASE("k3s: every config.yaml of the corpus gets our line and keeps every other byte",
          "[k3s]") {
  auto corpus = k3s_yaml_corpus();
  REQUIRE(corpus.size() >= 6);
  for (const auto& file : corpus) {
    for (const auto& original : variants(test::read_file(file))) {
      INFO(file.filename().string() << (original.find('\r') != std::string::npos ? " (CRLF)" : ""));
      K3sEdit edit = set_nvidia(original);
      REQUIRE(edit.changed);
      CHECK_FALSE(edit.previous_default);
      // Appended after the original bytes, which stay as they were.
      CHECK(edit.text == original + edit.appended);
      CHECK_THAT(edit.appended, Catch::Contains("default-runtime: nvidia"));
      bool crlf = original.find("\r\n") != std::string::npos;
      CHECK((crlf ? edit.appended.find("\r\n") != std::string::npos
                  : edit.appended.find('\r') == std::string::npos));
      // A file without a final newline keeps having none.
      CHECK((edit.text.back() == '\n') == (original.back() == '\n'));
      CHECK(k3s_default_runtime(edit.text, k_path) == "nvidia");
      // Idempotent, and revert --force gives back the original bytes.
      CHECK_FALSE(set_nvidia(edit.text).changed);
      CHECK(round_trip(original) == original);
    }
  }
}

TEST_CASE("k3s: an empty or blank file becomes just the addition", "[k3s]") {
  CHECK(set_nvidia("").text == shipped_addition());
  CHECK(set_nvidia("").appended == shipped_addition());
  CHECK(round_trip("") == "");
  CHECK(set_nvidia("# only a comment").text ==
        "# only a comment\n" + shipped_addition().substr(0, shipped_addition().size() - 1));
  CHECK(round_trip("# only a comment") == "# only a comment");
  CHECK(set_nvidia("---\n").text == "---\n" + shipped_addition());
}

TEST_CASE("k3s: an existing value is replaced in place, its quoting kept", "[k3s]") {
  struct Case {
    std::string before, after, previous;
  };
  std::vector<Case> cases = {
      {"a: 1\ndefault-runtime: runc\nb: 2\n", "a: 1\ndefault-runtime: nvidia\nb: 2\n", "runc"},
      {"default-runtime: 'crun'  # ours\n", "default-runtime: 'nvidia'  # ours\n", "crun"},
      {"default-runtime: \"runc\"\r\nz: x", "default-runtime: \"nvidia\"\r\nz: x", "runc"},
      {"default-runtime:\nb: 2\n", "default-runtime: nvidia\nb: 2\n", ""},
      {"default-runtime: # none yet\n", "default-runtime: nvidia # none yet\n", ""},
      {"\"default-runtime\" : ~\n", "\"default-runtime\" : nvidia\n", "~"},
      {"  indented: 1\n  default-runtime: runc\n", "  indented: 1\n  default-runtime: nvidia\n",
       "runc"},
  };
  for (const auto& c : cases) {
    INFO(c.before);
    K3sEdit edit = set_nvidia(c.before);
    CHECK(edit.text == c.after);
    CHECK(edit.previous_default == c.previous);
    CHECK(edit.appended.empty());
    CHECK(round_trip(c.before) == c.before);
  }
}

TEST_CASE("k3s: already the default changes nothing, whatever its quoting", "[k3s]") {
  for (std::string text : {"default-runtime: nvidia\n", "a: 1\ndefault-runtime: 'nvidia'",
                           "default-runtime: \"nvidia\"\n"}) {
    K3sEdit edit = set_nvidia(text);
    CHECK_FALSE(edit.changed);
    CHECK(edit.text == text);
    CHECK(edit.previous_default == "nvidia");
  }
}

TEST_CASE("k3s: the addition is indented like the file's top-level keys", "[k3s]") {
  K3sEdit edit = set_k3s_default_runtime("  a: 1\n  b:\n    - x\n", k_path, "nvidia",
                                         "# c\ndefault-runtime: nvidia\n");
  CHECK(edit.text == "  a: 1\n  b:\n    - x\n  # c\n  default-runtime: nvidia\n");
}

TEST_CASE("k3s: revert --force keeps what the operator changed since", "[k3s]") {
  const std::string original = "token: abc\n";
  K3sEdit set = set_nvidia(original);
  // The operator added a key after ours: our lines go, theirs stay.
  std::string edited = set.text + "node-label:\n  - gpu=true\n";
  CHECK(remove_k3s_default_runtime(edited, k_path, "nvidia", std::nullopt, set.appended).text ==
        original + "node-label:\n  - gpu=true\n");
  // ...and after a file without a final newline, they gave ours one.
  K3sEdit no_eol = set_nvidia("token: abc");
  CHECK(remove_k3s_default_runtime(no_eol.text + "\ndebug: true", k_path, "nvidia", std::nullopt,
                                   no_eol.appended)
            .text == "token: abc\ndebug: true");
  // They moved our line on its own: that line goes.
  CHECK(remove_k3s_default_runtime("default-runtime: nvidia\ntoken: abc\n", k_path, "nvidia",
                                   std::nullopt, set.appended)
            .text == "token: abc\n");
  // The operator chose another default since: theirs stays.
  std::string theirs = original + "default-runtime: crun\n";
  CHECK_FALSE(
      remove_k3s_default_runtime(theirs, k_path, "nvidia", std::nullopt, set.appended).changed);
  // A default we replaced is put back, in the quoting it has now.
  K3sEdit replaced = set_nvidia("default-runtime: runc\n");
  CHECK(remove_k3s_default_runtime("x: 1\ndefault-runtime: \"nvidia\"\n", k_path, "nvidia",
                                   replaced.previous_default, "")
            .text == "x: 1\ndefault-runtime: \"runc\"\n");
}

TEST_CASE("k3s: malformed config.yaml is refused at its line and column", "[k3s]") {
  struct Case {
    std::string text, where;
  };
  std::vector<Case> cases = {
      {"a:\n\tb: 1\n", ":2:1: found character that cannot start any token"},  // tab indentation
      {"a: 1\n\tb: 2\n",
       ":2:1: found a tab character that violates indentation"},  // tab after a value
      {"tls-san: \"foo.local\nb: 2\n", ":3:1: found unexpected end of stream"},  // unclosed quote
      {"%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
       ":2:1: found duplicate %YAML directive"},  // duplicate directive
      {"a: 1\n b: 2\n", ":2:3: mapping values are not allowed in this context"},  // bad indentation
      {"a: [1, 2\nb: 3\n", ":2:2: did not find expected ',' or ']'"},        // unclosed flow list
      {"- traefik\n- servicelb\n", ":1:1: the top level is not a mapping"},  // a top-level list
      {"just a string\n", ":1:1: the top level is not a mapping"},           // a top-level scalar
      {"{cluster-init: true, debug: true}\n",
       ":1:1: the top level is a flow mapping"},                    // a flow mapping
      {"a: 1\n---\nb: 2\n", ":2:1: holds a second YAML document"},  // two documents
      {"a: 1\ndefault-runtime: runc\ndefault-runtime: crun\n",
       ":3:1: default-runtime is set a second time"},
      {"default-runtime:\n  - runc\n",
       ":2:3: default-runtime's value is not a plain or quoted string"},
      {"default-runtime: |\n  runc\n",
       ":1:18: default-runtime's value is not a plain or quoted string"},
      {"base: &b runc\ndefault-runtime: *b\n",
       ":2:18: default-runtime's value is not a plain or quoted string"},
      {"a: \xff\n", ":1:4: invalid leading UTF-8 octet"},
      {"a: 1\n...\n", ":2:1: ends its YAML document with `...`"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK_THROWS_AS(set_nvidia(c.text), ConfigError);
    CHECK_THROWS_WITH(set_nvidia(c.text), Catch::StartsWith(k_path + c.where));
  }
  CHECK_THROWS_WITH(k3s_default_runtime("- a\n", "/x.yaml"), Catch::StartsWith("/x.yaml:1:1:"));
}

TEST_CASE("k3s: a template must add default-runtime and nothing else", "[k3s]") {
  const std::string name = "/tpl/k3s/config.yaml";
  CHECK(render_k3s_addition("default-runtime: {{runtime_name}}", name, "nvidia") ==
        "default-runtime: nvidia\n");
  CHECK_THROWS_WITH(render_k3s_addition("# x\ndefault-runtime: {{runtime}}\n", name, "nvidia"),
                    Catch::StartsWith(name + ":2:18: unknown placeholder"));
  CHECK_THROWS_WITH(
      render_k3s_addition("debug: true\ndefault-runtime: {{runtime_name}}\n", name, "nvidia"),
      Catch::StartsWith(name + ":1:1: sets `debug`"));
  CHECK_THROWS_WITH(render_k3s_addition("# nothing\n", name, "nvidia"),
                    Catch::StartsWith(name + ": does not set default-runtime"));
  CHECK_THROWS_WITH(render_k3s_addition("default-runtime: \"{{runtime_name}}\n", name, "nvidia"),
                    Catch::StartsWith(name + ":2:1: found unexpected end of stream"));
  CHECK_THROWS_WITH(render_k3s_addition("---\ndefault-runtime: {{runtime_name}}\n", name, "nvidia"),
                    Catch::StartsWith(name + ":1:1: holds a document marker"));
  CHECK_THROWS_WITH(render_k3s_addition("  default-runtime: {{runtime_name}}\n", name, "nvidia"),
                    Catch::StartsWith(name + ":1:3: indents default-runtime"));
  CHECK_THROWS_AS(render_k3s_addition("default-runtime: {{runtime_name}}\n", name, "yes"), Error);
  CHECK_THROWS_AS(render_k3s_addition("default-runtime: {{runtime_name}}\n", name, "a: b"), Error);
  CHECK(render_k3s_addition("default-runtime: {{runtime_name}}\n", name, "nvidia-cdi") ==
        "default-runtime: nvidia-cdi\n");
}
