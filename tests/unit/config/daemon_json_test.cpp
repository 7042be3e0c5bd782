#include "config/daemon_json.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/templates.hpp"
#include "error.hpp"
#include "support/config_error.hpp"
#include "support/temp_root.hpp"

using namespace gns::config;

namespace {

const std::string k_path = "/etc/docker/daemon.json";

// What configure writes for a file that had nothing in it.
const std::string k_fresh =
    "{\n"
    "  \"runtimes\": {\n"
    "    \"nvidia\": {\n"
    "      \"path\": \"/usr/bin/nvidia-container-runtime\",\n"
    "      \"args\": []\n"
    "    }\n"
    "  },\n"
    "  \"default-runtime\": \"nvidia\"\n"
    "}\n";

DockerRuntimeSettings with_cdi() {
  DockerRuntimeSettings s;
  s.enable_cdi = true;
  return s;
}

DockerRuntimeSettings not_default() {
  DockerRuntimeSettings s;
  s.set_as_default = false;
  return s;
}

DaemonJsonEdit configure(std::string_view text, const DockerRuntimeSettings& s = {}) {
  return configure_docker_runtime(text, k_path, s);
}

// Undoes `edit` (which configure made of some file) the way `revert --force` does.
DaemonJsonEdit remove(std::string_view text, const DaemonJsonEdit& edit) {
  return remove_docker_runtime(text, k_path, "nvidia", edit.previous_default, edit.entry);
}

// Configuring twice changes nothing the second time; removing what configure did gives what
// removing from `x` gives: `x` itself when it had no nvidia runtime. (A "cdi" feature we added
// stays: remove never touches features.)
void check_reversible(const std::string& x, const DockerRuntimeSettings& s = {}) {
  INFO("input:\n" << x);
  const auto once = configure(x, s);
  const auto twice = configure(once.text, s);
  CHECK(twice.text == once.text);
  CHECK_FALSE(twice.changed);
  CHECK(twice.previous_default == (s.set_as_default ? "nvidia" : once.previous_default));
  // A blank file and {} both come back as {}: nothing to compare byte for byte.
  const bool has_members = x.find('"') != std::string::npos;
  if (has_members && !s.enable_cdi) CHECK(remove(once.text, once).text == remove(x, once).text);
}

// The ConfigError that configuring `text` throws; the test fails if there is none.
gns::ConfigError config_error(std::string_view text) {
  return gns::test::config_error_from([&] { configure(text); }, text);
}

void check_error_at(std::string_view text, unsigned line, unsigned column,
                    const std::string& message_part) {
  INFO("input:\n" << text);
  const auto e = config_error(text);
  CHECK(e.path() == k_path);
  CHECK(e.line() == line);
  CHECK(e.column() == column);
  CHECK_THAT(e.what(), Catch::Contains(message_part));
  CHECK_THAT(e.what(), Catch::StartsWith(k_path + ":" + std::to_string(line) + ":" +
                                         std::to_string(column) + ": "));
}

// A typical operator's file, 4-space indented, with a feature of its own.
const std::string k_user_file =
    "{\n"
    "    \"log-driver\": \"json-file\",\n"
    "    \"log-opts\": {\n"
    "        \"max-size\": \"100m\",\n"
    "        \"max-file\": \"3\"\n"
    "    },\n"
    "    \"registry-mirrors\": [\"https://mirror.gcr.io\"],\n"
    "    \"data-root\": \"/srv/docker\",\n"
    "    \"features\": {\n"
    "        \"buildkit\": true\n"
    "    }\n"
    "}\n";

const std::string k_tab_file =
    "{\n"
    "\t\"runtimes\": {\n"
    "\t\t\"runsc\": {\n"
    "\t\t\t\"path\": \"/usr/local/bin/runsc\",\n"
    "\t\t\t\"runtimeArgs\": [\"--platform=ptrace\"]\n"
    "\t\t}\n"
    "\t},\n"
    "\t\"default-runtime\": \"runsc\"\n"
    "}\n";

// Numbers and strings spelled in ways a re-serialiser would "fix".
const std::string k_odd_spellings =
    "{\n"
    "  \"max-concurrent-downloads\": 1.0e1,\n"
    "  \"shutdown-timeout\": 15.000,\n"
    "  \"labels\": [\"caf\\u00e9\", \"tab\\there\", \"\\/slash\", \"na\xC3\xAFve\"],\n"
    "  \"mtu\": -0\n"
    "}\n";

// Every well-formed input the tests below use, for the properties that hold for all of them.
std::vector<std::string> well_formed_inputs() {
  return {"",
          "\n",
          "{}",
          "{\"a\":1}",
          "{ \"a\": 1 }",
          "{\n  \"a\": 1\n}",
          "{\r\n  \"a\": 1\r\n}\r\n",
          "\xEF\xBB\xBF{\n  \"a\": 1\n}\n",
          "{\n  \"features\": {\"cdi\": false}\n}\n",
          "{\n  \"default-runtime\": \"runc\", \"debug\": true\n}\n",
          k_user_file,
          k_tab_file,
          k_odd_spellings};
}

// Read in place, never copied into the project (SOURCES.md there says where each came from).
std::filesystem::path corpus_dir() { return gns::test::shared_fixture("runtime-configs"); }

// The real daemon.json files of the shared corpus whose name starts with `prefix`.
std::vector<std::filesystem::path> corpus(const std::string& prefix) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(corpus_dir()))
    if (entry.path().filename().string().starts_with(prefix)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("daemon.json: an absent, empty or blank file gets a conventional document",
          "[config][docker]") {
  for (const std::string original : {"", " ", "\n\n\t \n", "{}", "{ }\n", "{\n}\n"}) {
    INFO("input: '" << original << "'");
    const auto edit = configure(original);
    CHECK(edit.text == k_fresh);
    CHECK(edit.changed);
    CHECK_FALSE(edit.previous_default);
  }
  CHECK(remove(k_fresh, configure("")).text == "{}\n");
}

TEST_CASE("daemon.json: an operator's file keeps every byte around our members",
          "[config][docker]") {
  const auto edit = configure(k_user_file);
  CHECK(edit.changed);
  CHECK_FALSE(edit.previous_default);
  CHECK(edit.text ==
        "{\n"
        "    \"log-driver\": \"json-file\",\n"
        "    \"log-opts\": {\n"
        "        \"max-size\": \"100m\",\n"
        "        \"max-file\": \"3\"\n"
        "    },\n"
        "    \"registry-mirrors\": [\"https://mirror.gcr.io\"],\n"
        "    \"data-root\": \"/srv/docker\",\n"
        "    \"features\": {\n"
        "        \"buildkit\": true\n"
        "    },\n"
        "    \"runtimes\": {\n"
        "        \"nvidia\": {\n"
        "            \"path\": \"/usr/bin/nvidia-container-runtime\",\n"
        "            \"args\": []\n"
        "        }\n"
        "    },\n"
        "    \"default-runtime\": \"nvidia\"\n"
        "}\n");
  CHECK(remove(edit.text, edit).text == k_user_file);
}

TEST_CASE("daemon.json: --cdi merges into the user's features", "[config][docker]") {
  const auto edit = configure(k_user_file, with_cdi());
  CHECK_THAT(edit.text, Catch::Contains("    \"features\": {\n"
                                        "        \"buildkit\": true,\n"
                                        "        \"cdi\": true\n"
                                        "    },\n"
                                        "    \"runtimes\": {\n"));
  // revert --force leaves features alone: a feature may have been the operator's before us.
  CHECK_THAT(remove(edit.text, edit).text, Catch::Contains("\"cdi\": true"));

  CHECK(configure("{\n  \"features\": {\"cdi\": false}\n}\n", with_cdi()).text ==
        "{\n"
        "  \"features\": {\"cdi\": true},\n"
        "  \"runtimes\": {\n"
        "    \"nvidia\": {\n"
        "      \"path\": \"/usr/bin/nvidia-container-runtime\",\n"
        "      \"args\": []\n"
        "    }\n"
        "  },\n"
        "  \"default-runtime\": \"nvidia\"\n"
        "}\n");
  CHECK_THAT(configure("{\"debug\": true}", with_cdi()).text,
             Catch::EndsWith(", \"features\": {\"cdi\": true}}"));
  CHECK_THAT(configure("", with_cdi()).text, Catch::EndsWith("  \"default-runtime\": \"nvidia\",\n"
                                                             "  \"features\": {\n"
                                                             "    \"cdi\": true\n"
                                                             "  }\n"
                                                             "}\n"));
  const std::string done = configure(k_user_file, with_cdi()).text;
  CHECK_FALSE(configure(done, with_cdi()).changed);
}

TEST_CASE("daemon.json: the runtime's name and path come from the settings", "[config][docker]") {
  DockerRuntimeSettings s;
  s.runtime_name = "nvidia-cdi";
  s.runtime_path = "/usr/local/nvidia/toolkit/nvidia-container-runtime.cdi";
  s.enable_cdi = true;
  const auto edit = configure("{\"a\":1}", s);
  CHECK(edit.text ==
        "{\"a\":1,\"runtimes\":{\"nvidia-cdi\":{\"path\":"
        "\"/usr/local/nvidia/toolkit/nvidia-container-runtime.cdi\",\"args\":[]}},"
        "\"default-runtime\":\"nvidia-cdi\",\"features\":{\"cdi\":true}}");
  // An "nvidia" runtime of the user's is not ours to touch.
  CHECK(remove_docker_runtime(edit.text, k_path, "nvidia", std::nullopt).text == edit.text);
  CHECK(remove_docker_runtime(edit.text, k_path, "nvidia-cdi", std::nullopt).text ==
        "{\"a\":1,\"features\":{\"cdi\":true}}");
}

TEST_CASE("daemon.json: a tab-indented file with another runtime keeps it", "[config][docker]") {
  const auto edit = configure(k_tab_file);
  CHECK(edit.previous_default == "runsc");
  CHECK(edit.text ==
        "{\n"
        "\t\"runtimes\": {\n"
        "\t\t\"runsc\": {\n"
        "\t\t\t\"path\": \"/usr/local/bin/runsc\",\n"
        "\t\t\t\"runtimeArgs\": [\"--platform=ptrace\"]\n"
        "\t\t},\n"
        "\t\t\"nvidia\": {\n"
        "\t\t\t\"path\": \"/usr/bin/nvidia-container-runtime\",\n"
        "\t\t\t\"args\": []\n"
        "\t\t}\n"
        "\t},\n"
        "\t\"default-runtime\": \"nvidia\"\n"
        "}\n");
  CHECK(remove(edit.text, edit).text == k_tab_file);
}

TEST_CASE("daemon.json: a compact one-line file stays on one line", "[config][docker]") {
  CHECK(configure("{\"a\":1}").text ==
        "{\"a\":1,\"runtimes\":{\"nvidia\":{\"path\":\"/usr/bin/nvidia-container-runtime\","
        "\"args\":[]}},\"default-runtime\":\"nvidia\"}");
  CHECK(
      configure("{ \"a\": 1 }\n").text ==
      "{ \"a\": 1, \"runtimes\": { \"nvidia\": { \"path\": \"/usr/bin/nvidia-container-runtime\", "
      "\"args\": [] } }, \"default-runtime\": \"nvidia\" }\n");
}

TEST_CASE("daemon.json: CRLF line endings and a missing final newline are kept",
          "[config][docker]") {
  const auto crlf = configure("{\r\n  \"a\": 1\r\n}\r\n").text;
  CHECK(crlf ==
        "{\r\n"
        "  \"a\": 1,\r\n"
        "  \"runtimes\": {\r\n"
        "    \"nvidia\": {\r\n"
        "      \"path\": \"/usr/bin/nvidia-container-runtime\",\r\n"
        "      \"args\": []\r\n"
        "    }\r\n"
        "  },\r\n"
        "  \"default-runtime\": \"nvidia\"\r\n"
        "}\r\n");
  CHECK(configure("\r\n").text.find("\"args\": []\r\n") != std::string::npos);
  const auto no_eol = configure("{\n    \"a\": 1\n}").text;
  CHECK_THAT(no_eol,
             Catch::StartsWith("{\n    \"a\": 1,\n    \"runtimes\": {\n        \"nvidia\""));
  CHECK_THAT(no_eol, Catch::EndsWith("    \"default-runtime\": \"nvidia\"\n}"));
}

TEST_CASE("daemon.json: numbers, escapes and other spellings are not re-serialised",
          "[config][docker]") {
  const auto edit = configure(k_odd_spellings);
  CHECK(edit.text.substr(0, k_odd_spellings.size() - 3) ==
        k_odd_spellings.substr(0, k_odd_spellings.size() - 3));
  CHECK(remove(edit.text, edit).text == k_odd_spellings);
}

// An nvidia-docker2-era entry: a relative path, the user's runtimeArgs before it, spelled
// and spaced as no serialiser would.
const std::string k_other_path =
    "{\n"
    "    \"runtimes\": {\n"
    "        \"nvidia\": {\n"
    "            \"runtimeArgs\": [ \"--debug\",\n"
    "                             \"--log=/var/log/nvidia\\u002dr.log\" ],\n"
    "            \"path\":\"nvidia-container-runtime\"\n"
    "        }\n"
    "    },\n"
    "    \"debug\": true\n"
    "}\n";

TEST_CASE("daemon.json: an entry with another path gets our path in place, its members kept",
          "[config][docker]") {
  const auto edit = configure(k_other_path, not_default());
  // The member we add is spaced as its last sibling is ("path":"...").
  CHECK(edit.text ==
        "{\n"
        "    \"runtimes\": {\n"
        "        \"nvidia\": {\n"
        "            \"runtimeArgs\": [ \"--debug\",\n"
        "                             \"--log=/var/log/nvidia\\u002dr.log\" ],\n"
        "            \"path\":\"/usr/bin/nvidia-container-runtime\",\n"
        "            \"args\":[]\n"
        "        }\n"
        "    },\n"
        "    \"debug\": true\n"
        "}\n");
  CHECK(edit.entry.change == DockerEntryChange::path_set);
  CHECK(edit.entry.path_written == "/usr/bin/nvidia-container-runtime");
  CHECK(edit.entry.previous_path == nlohmann::ordered_json("nvidia-container-runtime"));
  CHECK(edit.entry.added_members ==
        nlohmann::ordered_json{{"args", nlohmann::ordered_json::array()}});
  CHECK(remove(edit.text, edit).text == k_other_path);
  check_reversible(k_other_path);
  // Made the default too: remove takes that out and gives the path back.
  const auto as_default = configure(k_other_path);
  CHECK_THAT(as_default.text, Catch::EndsWith("    \"debug\": true,\n"
                                              "    \"default-runtime\": \"nvidia\"\n}\n"));
  CHECK(remove(as_default.text, as_default).text == k_other_path);
}

TEST_CASE("daemon.json: only the members of the template the entry lacks are added",
          "[config][docker]") {
  // The user's own "args" stays as it is, inert to dockerd as ours would be.
  const std::string with_args =
      "{\"runtimes\": {\"nvidia\": {\"path\": \"/old\", \"args\": [\"x\"], "
      "\"runtimeArgs\": [\"--debug\"]}}}";
  const auto edit = configure(with_args, not_default());
  CHECK(edit.text ==
        "{\"runtimes\": {\"nvidia\": {\"path\": \"/usr/bin/nvidia-container-runtime\", "
        "\"args\": [\"x\"], \"runtimeArgs\": [\"--debug\"]}}}");
  CHECK(edit.entry.added_members.empty());
  CHECK(remove(edit.text, edit).text == with_args);
  // A site's template without "args" adds none.
  DockerRuntimeSettings s = not_default();
  s.runtime_entry = render_docker_runtime_entry("{\"path\": \"{{runtime_path}}\"}", "t.json",
                                                "nvidia", s.runtime_path);
  const std::string without_args =
      "{\"runtimes\": {\"nvidia\": {\"path\": \"/old\", \"runtimeArgs\": [\"--debug\"]}}}";
  CHECK(configure(without_args, s).text ==
        "{\"runtimes\": {\"nvidia\": {\"path\": \"/usr/bin/nvidia-container-runtime\", "
        "\"runtimeArgs\": [\"--debug\"]}}}");
}

TEST_CASE("daemon.json: an entry with no path gets ours after its members", "[config][docker]") {
  const std::string no_path =
      "{\n"
      "  \"runtimes\": {\n"
      "    \"nvidia\": {\n"
      "      \"runtimeArgs\": [\"--debug\"]\n"
      "    }\n"
      "  }\n"
      "}\n";
  const auto edit = configure(no_path, not_default());
  CHECK(edit.text ==
        "{\n"
        "  \"runtimes\": {\n"
        "    \"nvidia\": {\n"
        "      \"runtimeArgs\": [\"--debug\"],\n"
        "      \"path\": \"/usr/bin/nvidia-container-runtime\",\n"
        "      \"args\": []\n"
        "    }\n"
        "  }\n"
        "}\n");
  CHECK(edit.entry.change == DockerEntryChange::path_set);
  CHECK_FALSE(edit.entry.previous_path);
  CHECK(remove(edit.text, edit).text == no_path);
  check_reversible(no_path);

  const std::string empty_entry = "{\n  \"runtimes\": {\n    \"nvidia\": {}\n  }\n}\n";
  const auto filled = configure(empty_entry, not_default());
  CHECK(filled.text ==
        "{\n"
        "  \"runtimes\": {\n"
        "    \"nvidia\": {\n"
        "      \"path\": \"/usr/bin/nvidia-container-runtime\",\n"
        "      \"args\": []\n"
        "    }\n"
        "  }\n"
        "}\n");
  CHECK(remove(filled.text, filled).text == empty_entry);
  // A path of null is a path dockerd reads as none; it comes back as it was.
  const std::string null_path = "{\"runtimes\": {\"nvidia\": {\"path\": null}}}";
  const auto from_null = configure(null_path, not_default());
  CHECK(from_null.entry.previous_path == nlohmann::ordered_json(nullptr));
  CHECK(remove(from_null.text, from_null).text == null_path);
}

TEST_CASE("daemon.json: revert --force undoes only what configure did to the entry",
          "[config][docker]") {
  const auto edit = configure(k_other_path, not_default());
  // Someone pointed it elsewhere since: theirs, as it is now.
  std::string theirs = edit.text;
  theirs.replace(theirs.find("/usr/bin/nvidia-container-runtime"), 33, "/opt/their-runtime");
  CHECK_FALSE(remove(theirs, edit).changed);
  // Someone gave "args" a value since: the path goes back, their "args" stays.
  std::string args = edit.text;
  args.replace(args.find("\"args\":[]"), 9, "\"args\":[\"y\"]");
  CHECK_THAT(remove(args, edit).text, Catch::Contains("\"path\":\"nvidia-container-runtime\",\n"
                                                      "            \"args\":[\"y\"]\n"));
  // An entry already ours is the user's: only the default goes back.
  const std::string ours =
      "{\"runtimes\": {\"nvidia\": {\"path\": \"/usr/bin/nvidia-container-runtime\", "
      "\"runtimeArgs\": [\"--debug\"]}}, \"default-runtime\": \"runc\"}";
  const auto kept = configure(ours);
  CHECK(kept.changed);
  CHECK(kept.entry.change == DockerEntryChange::kept);
  CHECK(remove(kept.text, kept).text == ours);
  // A record from before the entry's change was recorded: the entry was added, and goes.
  CHECK(remove_docker_runtime(edit.text, k_path, "nvidia", std::nullopt).text ==
        "{\n    \"debug\": true\n}\n");
}

TEST_CASE("daemon.json: the entry's change is named in the undo record", "[config][docker]") {
  for (auto change :
       {DockerEntryChange::added, DockerEntryChange::kept, DockerEntryChange::path_set})
    CHECK(parse_docker_entry_change(to_string(change)) == change);
  CHECK(to_string(DockerEntryChange::path_set) == "path_set");
  CHECK_FALSE(parse_docker_entry_change("replaced"));
}

TEST_CASE("daemon.json: a containerd shim entry of the same name is not ours to change",
          "[config][docker]") {
  for (const std::string entry : {"{\"runtimeType\": \"io.containerd.runsc.v1\"}",
                                  "{\"path\": \"/old\", \"options\": {\"TypeUrl\": \"x\"}}"}) {
    INFO(entry);
    const std::string text = "{\"runtimes\": {\"nvidia\": " + entry + "}}";
    CHECK_THROWS_AS(configure(text), gns::Error);
    CHECK_THROWS_WITH(configure(text), Catch::Contains("--runtime-name"));
  }
  // Unset is unset, to dockerd and to us.
  CHECK_NOTHROW(
      configure("{\"runtimes\": {\"nvidia\": {\"runtimeType\": \"\", \"options\": {}}}}"));
}

TEST_CASE("daemon.json: an already configured file is returned byte for byte", "[config][docker]") {
  const std::vector<std::string> done = {
      k_fresh,
      // Key order and extra members of the user's are theirs; only the path matters to us.
      "{\"default-runtime\": \"nvidia\", \"runtimes\": {\"nvidia\": {\"args\": [], \"path\": "
      "\"/usr/bin/nvidia-container-runtime\"}}}",
      "{\n  \"runtimes\": {\"nvidia\": {\"path\": \"/usr/bin/nvidia-container-runtime\", "
      "\"runtimeArgs\": [\"--debug\"]}},\n  \"default-runtime\": \"nvidia\"\n}",
      // A key spelled with an escape is the same key.
      "{\"runtimes\": {\"\\u006evidia\": {\"path\": \"/usr/bin/nvidia-container-runtime\"}}, "
      "\"default-runtime\": \"nvidia\"}"};
  for (const auto& text : done) {
    INFO(text);
    const auto edit = configure(text);
    CHECK_FALSE(edit.changed);
    CHECK(edit.text == text);
    CHECK(edit.previous_default == "nvidia");
  }
}

TEST_CASE("daemon.json: previous_default reports what was the default", "[config][docker]") {
  CHECK(configure("{\"default-runtime\": \"runc\"}").previous_default == "runc");
  CHECK(configure("{\"default-runtime\": \"runc\"}", not_default()).previous_default == "runc");
  CHECK_FALSE(configure("{\"debug\": true}").previous_default);
}

TEST_CASE("daemon.json: without set_as_default the default runtime is left alone",
          "[config][docker]") {
  CHECK(configure("{\n  \"default-runtime\": \"runc\"\n}\n", not_default()).text ==
        "{\n"
        "  \"default-runtime\": \"runc\",\n"
        "  \"runtimes\": {\n"
        "    \"nvidia\": {\n"
        "      \"path\": \"/usr/bin/nvidia-container-runtime\",\n"
        "      \"args\": []\n"
        "    }\n"
        "  }\n"
        "}\n");
  CHECK(configure("{\"debug\": true}", not_default()).text.find("default-runtime") ==
        std::string::npos);
}

TEST_CASE("daemon.json: an empty runtimes object gets our runtime inside it", "[config][docker]") {
  const std::string original = "{\n  \"runtimes\": {},\n  \"debug\": true\n}\n";
  const auto edit = configure(original);
  CHECK(edit.text ==
        "{\n"
        "  \"runtimes\": {\n"
        "    \"nvidia\": {\n"
        "      \"path\": \"/usr/bin/nvidia-container-runtime\",\n"
        "      \"args\": []\n"
        "    }\n"
        "  },\n"
        "  \"debug\": true,\n"
        "  \"default-runtime\": \"nvidia\"\n"
        "}\n");
  // remove cannot tell an empty "runtimes" of the user's from one it emptied: it drops it.
  CHECK(remove(edit.text, edit).text == "{\n  \"debug\": true\n}\n");
}

TEST_CASE("daemon.json: a BOM stays in front and is not counted in columns", "[config][docker]") {
  const std::string bom = "\xEF\xBB\xBF";
  CHECK(configure(bom).text == bom + k_fresh);
  CHECK_THAT(configure(bom + "{\"a\": 1}").text, Catch::StartsWith(bom + "{\"a\": 1, "));
  check_error_at(bom + "{\"a\": 1,}", 1, 9, "not valid JSON");
}

TEST_CASE("daemon.json: configure is idempotent and remove undoes it, for every input",
          "[config][docker]") {
  for (const auto& x : well_formed_inputs()) {
    check_reversible(x);
    check_reversible(x, not_default());
    check_reversible(x, with_cdi());
    const auto edit = configure(x);
    if (x.find('"') != std::string::npos) {
      INFO("input:\n" << x);
      CHECK(remove(edit.text, edit).text == x);
    }
  }
}

TEST_CASE("daemon.json: remove puts the previous default back", "[config][docker]") {
  CHECK(remove_docker_runtime("{\"runtimes\": {\"nvidia\": {\"path\": \"x\"}}}", k_path, "nvidia",
                              "runc")
            .text == "{\"default-runtime\": \"runc\"}");
  CHECK(remove_docker_runtime("{\"a\": 1, \"default-runtime\": \"runsc\"}", k_path, "nvidia",
                              std::nullopt)
            .text == "{\"a\": 1, \"default-runtime\": \"runsc\"}");
  const auto nothing = remove_docker_runtime("{\"a\": 1}\n", k_path, "nvidia", std::nullopt);
  CHECK_FALSE(nothing.changed);
  CHECK(nothing.text == "{\"a\": 1}\n");
  CHECK(remove_docker_runtime("", k_path, "nvidia", std::nullopt).text.empty());
}

TEST_CASE("daemon.json: input that is not JSON is a ConfigError at its position",
          "[config][docker]") {
  check_error_at("{\n  \"a\": 1,\n}\n", 3, 1, "not valid JSON");
  check_error_at("{\n  \"data-root\": \"/srv/docker\n}\n", 2, 28, "control character");
  check_error_at("{\"data-root\": \"/srv", 1, 20, "missing closing quote");
  check_error_at(std::string("{\n  \"a\": \0\n}", 12), 2, 8, "NUL byte");
  check_error_at(std::string("{\"a\": \"x\0\"}", 11), 1, 9, "NUL byte");
  check_error_at("{\n  // GPU nodes\n  \"a\": 1\n}\n", 2, 3, "not valid JSON");
  check_error_at("{\"a\": 1} /* done */", 1, 10, "not valid JSON");
  check_error_at("{\"caf\xC3\xA9\": 1,}", 1, 12, "not valid JSON");
  check_error_at("{\"a\": tru}", 1, 7, "invalid literal");
}

TEST_CASE("daemon.json: JSON that docker cannot read is a ConfigError at the value",
          "[config][docker]") {
  check_error_at("  [1, 2]\n", 1, 3, "must be a JSON object ({ ... }), not array");
  check_error_at("\"nvidia\"", 1, 1, "not string");
  check_error_at("{\n  \"runtimes\": \"nvidia\"\n}\n", 2, 15, "\"runtimes\" must be a JSON object");
  check_error_at("{\"features\": [\"cdi\"]}", 1, 14, "\"features\" must be a JSON object");
  check_error_at("{\n  \"default-runtime\": 1\n}", 2, 22, "\"default-runtime\" must be a string");
  check_error_at("{\n  \"debug\": true,\n  \"debug\": false\n}\n", 3, 3,
                 "duplicate key \"debug\" (first on line 2)");
  check_error_at("{\"runtimes\": {\"nvidia\": {}, \"\\u006evidia\": {}}}", 1, 29,
                 "duplicate key \"nvidia\"");
  check_error_at("{\"features\": {\"cdi\": true, \"cdi\": false}}", 1, 28, "duplicate key");
  // Our entry is edited member by member: dockerd reads it as an object, the last "path" winning.
  check_error_at("{\"runtimes\": {\"nvidia\": \"x\"}}", 1, 25,
                 "\"runtimes\".\"nvidia\" must be a JSON object, not string");
  check_error_at("{\"runtimes\": {\"nvidia\": {\"path\": \"a\", \"path\": \"b\"}}}", 1, 39,
                 "duplicate key \"path\"");
  // Removing is refused alike: it could not say which member to take out.
  CHECK_THROWS_AS(remove_docker_runtime("{\"runtimes\": []}", k_path, "nvidia", std::nullopt),
                  gns::ConfigError);
}

TEST_CASE("daemon.json: duplicates deeper down are docker's business (the last one wins)",
          "[config][docker]") {
  const std::string text = "{\"log-opts\": {\"max-size\": \"1m\", \"max-size\": \"2m\"}}";
  const auto edit = configure(text);
  CHECK_THAT(edit.text, Catch::StartsWith(text.substr(0, text.size() - 1) + ", \"runtimes\""));
  CHECK(remove(edit.text, edit).text == text);
}

TEST_CASE("daemon.json: a runtime path that is not UTF-8 is an Error, not a broken file",
          "[config][docker]") {
  DockerRuntimeSettings s;
  s.runtime_path = "/opt/\xFF/runtime";
  CHECK_THROWS_AS(configure("{}", s), gns::Error);
}

TEST_CASE("daemon.json: the real docker files of the shared corpus", "[config][docker]") {
  const auto files = corpus("docker--");
  REQUIRE(files.size() >= 19);
  for (const auto& file : files) {
    INFO(file.filename().string());
    const std::string x = gns::test::read_file(file);
    check_reversible(x);
    check_reversible(x, with_cdi());
    const auto edit = configure(x);
    // NVIDIA's README file is the one already set up as we would (its runtimeArgs are its own);
    // four more have an nvidia runtime with a relative path, which is set in place.
    CHECK(edit.changed !=
          (file.filename() == "docker--nvidia-k8s-device-plugin-readme-default-runtime.json"));
    CHECK(remove(edit.text, edit).text == x);
    const auto runtimes = nlohmann::json::parse(x).value("runtimes", nlohmann::json::object());
    if (runtimes.contains("nvidia")) {
      // Every member of the user's entry but the path is still there, with its value.
      auto after = nlohmann::json::parse(edit.text)["runtimes"]["nvidia"];
      CHECK(after["path"] == "/usr/bin/nvidia-container-runtime");
      for (const auto& [key, value] : runtimes["nvidia"].items())
        if (key != "path") CHECK(after[key] == value);
    }
  }
}

TEST_CASE("daemon.json: a Windows file from the corpus keeps CRLF, tabs and no final newline",
          "[config][docker]") {
  const auto x =
      gns::test::read_file(corpus_dir() / "docker--cireson-windows-labels-crlf-tab.json");
  CHECK(configure(x).text ==
        "{\r\n"
        "\t\"labels\": [\"ostypelabel=windowscompat\"],\r\n"
        "\t\"runtimes\": {\r\n"
        "\t\t\"nvidia\": {\r\n"
        "\t\t\t\"path\": \"/usr/bin/nvidia-container-runtime\",\r\n"
        "\t\t\t\"args\": []\r\n"
        "\t\t}\r\n"
        "\t},\r\n"
        "\t\"default-runtime\": \"nvidia\"\r\n"
        "}");
}

TEST_CASE("daemon.json: the broken docker files of the corpus are ConfigErrors",
          "[config][docker]") {
  const auto where = [](const std::string& name) {
    return config_error(gns::test::read_file(corpus_dir() / name));
  };
  // The positions python's json module reports for the same files (SOURCES.md).
  const auto trailing_comma = where("edge--docker-404xiaochaochao-crlf-trailing-comma-graph.json");
  CHECK((trailing_comma.line() == 6 && trailing_comma.column() == 1));
  const auto anonymous = where("edge--docker-falenn-awsk8s-anonymous-object.json.tpl");
  CHECK((anonymous.line() == 12 && anonymous.column() == 3));
  const auto stray_quote = where("edge--docker-nvidia-docker-pr1110-broken-path-quote.json");
  CHECK((stray_quote.line() == 4 && stray_quote.column() == 32));
  CHECK(corpus("edge--docker").size() == 3);
}

// ---- the runtime's entry from its template (templates/docker/runtime.json) ----------------------

namespace {

const std::string k_template_name = "site/docker/runtime.json";

nlohmann::ordered_json render_entry(std::string_view text,
                                    const std::string& path = "/usr/bin/nvidia-container-runtime") {
  return render_docker_runtime_entry(text, k_template_name, "nvidia", path);
}

// The ConfigError that rendering template `text` throws; the test fails if there is none.
gns::ConfigError template_error(std::string_view text) {
  return gns::test::config_error_from([&] { render_entry(text); }, text);
}

void check_template_error_at(std::string_view text, unsigned line, unsigned column,
                             const std::string& message_part) {
  INFO("template:\n" << text);
  const auto e = template_error(text);
  CHECK(e.path() == k_template_name);
  CHECK(e.line() == line);
  CHECK(e.column() == column);
  CHECK_THAT(e.what(), Catch::Contains(message_part));
}

}  // namespace

TEST_CASE("docker template: placeholders become JSON string text, in the template's order",
          "[config][docker]") {
  const auto entry = render_docker_runtime_entry(
      "{\n  \"runtimeArgs\": [\"--log-prefix={{runtime_name}}\"],\n"
      "  \"path\": \"{{runtime_path}}\"\n}\n",
      k_template_name, "nvidia-\"x\"", "/opt/a \"b\"\\c\td");
  CHECK(entry.dump() ==
        R"({"runtimeArgs":["--log-prefix=nvidia-\"x\""],"path":"/opt/a \"b\"\\c\td"})");
  CHECK(entry["path"] == "/opt/a \"b\"\\c\td");
}

TEST_CASE("docker template: the stock template renders what configure writes without one",
          "[config][docker]") {
  const auto stock = gns::config::read_template({}, "docker/runtime.json");
  DockerRuntimeSettings s;
  s.runtime_path = "/opt/nvidia/bin/runtime";
  s.runtime_entry = render_docker_runtime_entry(stock.text, stock.path, "nvidia", s.runtime_path);
  DockerRuntimeSettings built_in;
  built_in.runtime_path = s.runtime_path;
  for (const auto& x : well_formed_inputs()) {
    INFO("input:\n" << x);
    CHECK(configure(x, s).text == configure(x, built_in).text);
  }
}

TEST_CASE("docker template: a site's entry is written as it is, and kept once the path matches",
          "[config][docker]") {
  DockerRuntimeSettings s;
  s.runtime_entry =
      render_entry("{\"path\": \"{{runtime_path}}\", \"runtimeArgs\": [\"--debug\"]}");
  const auto fresh = configure("", s);
  CHECK_THAT(fresh.text, Catch::Contains("      \"path\": \"/usr/bin/nvidia-container-runtime\",\n"
                                         "      \"runtimeArgs\": [\"--debug\"]\n"));
  check_reversible(k_user_file, s);
  // The rule daemon.json has always had: an entry with our path is the user's to keep.
  const auto stock_written = configure(k_user_file);
  CHECK_FALSE(configure(stock_written.text, s).changed);
  // One with another path gets ours, and the site's members it lacks.
  const std::string other = "{\"runtimes\": {\"nvidia\": {\"path\": \"/old/runtime\"}}}";
  CHECK_THAT(configure(other, s).text,
             Catch::StartsWith("{\"runtimes\": {\"nvidia\": {\"path\": "
                               "\"/usr/bin/nvidia-container-runtime\", \"runtimeArgs\": "
                               "[\"--debug\"]}}"));
}

TEST_CASE("docker template: an entry whose path is not the runtime path is a bug of the caller",
          "[config][docker]") {
  DockerRuntimeSettings s;
  s.runtime_entry = render_entry("{\"path\": \"{{runtime_path}}\"}", "/somewhere/else");
  CHECK_THROWS_AS(configure("{}", s), gns::Error);
  CHECK_THROWS_WITH(configure("{}", s), Catch::Contains("internal error"));
}

TEST_CASE("docker template: errors name the template's own line and column", "[config][docker]") {
  // After the placeholder the rendered text is longer; the column is still the template's.
  check_template_error_at("{\n  \"path\": \"{{runtime_path}}\", \"args\": nope\n}\n", 2, 39,
                          "renders to invalid JSON");
  // A placeholder outside a string: the error points at the placeholder itself.
  check_template_error_at("{\"path\": {{runtime_path}}}", 1, 10, "renders to invalid JSON");
  check_template_error_at("{\"path\": \"{{runtime_path}}\",\n \"x\": \"{{runtime}}\"}", 2, 8,
                          "unknown placeholder {{runtime}}");
  check_template_error_at("{\"path\": \"{{runtime_path\"}", 1, 11, "is not closed");
  check_template_error_at("\n[\"{{runtime_path}}\"]", 2, 1, "must be a JSON object");
  check_template_error_at("{\"args\": []}", 1, 1, "has no \"path\"");
  check_template_error_at("{\"path\": \"/usr/bin/runc\"}", 1, 10, "\"path\" must be");
  check_template_error_at("{\"path\": \"{{runtime_path}}\",\n \"path\": \"{{runtime_path}}\"}", 2,
                          2, "duplicate key \"path\" (first on line 1)");
  check_template_error_at("", 1, 1, "renders to invalid JSON");
}

TEST_CASE("docker template: a runtime path that is not UTF-8 is an Error", "[config][docker]") {
  CHECK_THROWS_AS(render_entry("{\"path\": \"{{runtime_path}}\"}", "/opt/\xFF"), gns::Error);
  CHECK_THROWS_WITH(render_entry("{\"path\": \"{{runtime_path}}\"}", "/opt/\xFF"),
                    Catch::Contains("not UTF-8"));
}
