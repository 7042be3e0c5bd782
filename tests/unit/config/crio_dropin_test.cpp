#include "config/crio_dropin.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "config/templates.hpp"
#include "config/toml_document.hpp"
#include "error.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::config;
namespace fs = std::filesystem;

namespace {

// The shipped template, rendered: the bytes the drop-in has on a host.
std::string render_shipped(const CrioDropin& dropin) {
  return render_crio_dropin(read_template({}, "crio/99-nvidia.conf").text, "99-nvidia.conf", dropin);
}

CrioDropin not_default() {
  CrioDropin dropin;
  dropin.set_as_default = false;
  return dropin;
}

const std::string k_header =
    "# Written by gpu-node-setup: the NVIDIA runtime for CRI-O. `gpu-node-setup revert` removes "
    "it.\n";

}  // namespace

TEST_CASE("crio drop-in: the default runtime", "[config]") {
  CHECK(render_shipped({}) == k_header +
                                  "[crio.runtime]\n"
                                  "default_runtime = \"nvidia\"\n"
                                  "\n"
                                  "[crio.runtime.runtimes.nvidia]\n"
                                  "runtime_path = \"/usr/bin/nvidia-container-runtime\"\n"
                                  "runtime_type = \"oci\"\n");
}

TEST_CASE("crio drop-in: not the default has no [crio.runtime] default", "[config]") {
  CHECK(render_shipped(not_default()) ==
        k_header +
            "[crio.runtime.runtimes.nvidia]\n"
            "runtime_path = \"/usr/bin/nvidia-container-runtime\"\n"
            "runtime_type = \"oci\"\n");
}

TEST_CASE("crio drop-in: a custom name and path, with the default runtime's options", "[config]") {
  CrioDropin dropin;
  dropin.runtime_name = "gpu_2";
  dropin.runtime_path = "/opt/nvidia/bin/nvidia-container-runtime";
  dropin.inherited_options = parse_toml(
      "runtime_root = \"/run/crun\"\nmonitor_path = \"/usr/libexec/crio/conmon\"\n"
      "allowed_annotations = [\"io.kubernetes.cri-o.Devices\"]\n"
      "privileged_without_host_devices = false\n[default_annotations]\n\"a.b\" = \"c\"\n",
      "options");
  CHECK(render_shipped(dropin) ==
        k_header +
            "[crio.runtime]\n"
            "default_runtime = \"gpu_2\"\n"
            "\n"
            "[crio.runtime.runtimes.gpu_2]\n"
            "runtime_path = \"/opt/nvidia/bin/nvidia-container-runtime\"\n"
            "runtime_type = \"oci\"\n"
            "allowed_annotations = [ \"io.kubernetes.cri-o.Devices\" ]\n"
            "default_annotations = { \"a.b\" = \"c\" }\n"
            "monitor_path = \"/usr/libexec/crio/conmon\"\n"
            "privileged_without_host_devices = false\n"
            "runtime_root = \"/run/crun\"\n");
}

TEST_CASE("crio drop-in: a path with quotes and backslashes stays one TOML string", "[config]") {
  CrioDropin dropin;
  dropin.runtime_path = "/opt/we\"ird\\dir/runtime\t";
  auto table = parse_toml(render_shipped(dropin), "rendered");
  CHECK(table["crio"]["runtime"]["runtimes"]["nvidia"]["runtime_path"].value<std::string>() ==
        dropin.runtime_path);
}

TEST_CASE("crio drop-in: a name that is not a bare TOML key is refused", "[config]") {
  CrioDropin dropin;
  dropin.runtime_name = "nvidia.cdi";
  CHECK_THROWS_WITH(render_shipped(dropin), Catch::Contains("cannot name a CRI-O runtime"));
}

TEST_CASE("crio drop-in: a template that renders broken TOML is refused at its own line",
          "[config]") {
  // Line 5 is broken; with the block dropped it is the rendered text's line 2, yet the
  // error names the template's line.
  const std::string broken =
      "# comment\n"
      "{{#set_as_default}}\n"
      "[crio.runtime]\n"
      "{{/set_as_default}}\n"
      "[crio.runtime.runtimes.{{runtime_name}}\n"
      "runtime_path = \"{{runtime_path}}\"\n";
  for (bool as_default : {true, false}) {
    CrioDropin dropin;
    dropin.set_as_default = as_default;
    CHECK_THROWS_AS(render_crio_dropin(broken, "t/99-nvidia.conf", dropin), ConfigError);
    CHECK_THROWS_WITH(render_crio_dropin(broken, "t/99-nvidia.conf", dropin),
                      Catch::StartsWith("t/99-nvidia.conf:5: renders to invalid TOML"));
  }
}

TEST_CASE("crio drop-in: unknown placeholders, open blocks and a lost runtime are refused",
          "[config]") {
  CrioDropin dropin;
  CHECK_THROWS_WITH(render_crio_dropin("a = 1\nb = \"{{runtime}}\"\n", "t", dropin),
                    Catch::StartsWith("t:2:6: unknown placeholder {{runtime}}"));
  CHECK_THROWS_WITH(render_crio_dropin("{{#set_as_default}}\n", "t", dropin),
                    Catch::StartsWith("t:1: {{#set_as_default}} is never closed"));
  CHECK_THROWS_WITH(render_crio_dropin("{{/set_as_default}}\n", "t", dropin),
                    Catch::StartsWith("t:1: "));
  CHECK_THROWS_WITH(
      render_crio_dropin("[crio.runtime]\ndefault_runtime = \"{{runtime_name}}\"\n", "t", dropin),
      Catch::Contains("does not set crio.runtime.runtimes.{{runtime_name}}.runtime_path"));
}

TEST_CASE("crio drop-in: what we render begins with the marker that says it is ours",
          "[config]") {
  CHECK(is_our_crio_dropin(render_shipped({})));
  CHECK(is_our_crio_dropin(render_shipped(not_default())));
  // A site's template without it gets it as a line of its own; the rest is as rendered.
  const std::string site = "[crio.runtime.runtimes.{{runtime_name}}]\n"
                           "runtime_path = \"{{runtime_path}}\"\n";
  CHECK(render_crio_dropin(site, "t", not_default()) ==
        "# Written by gpu-node-setup.\n"
        "[crio.runtime.runtimes.nvidia]\n"
        "runtime_path = \"/usr/bin/nvidia-container-runtime\"\n");
  // The user's files: the README's, and one that mentions us further down.
  CHECK_FALSE(is_our_crio_dropin(test::read_file(
      test::shared_fixture("runtime-configs/crio--nvidia-k8s-device-plugin-readme-99-nvidia.conf"))));
  CHECK_FALSE(is_our_crio_dropin("[crio]\n# Written by gpu-node-setup\n"));
  CHECK_FALSE(is_our_crio_dropin(""));
}

TEST_CASE("crio: later files win, tables merge key by key", "[config]") {
  toml::table merged;
  merge_crio_config(merged,
                    parse_toml("[crio.runtime]\ndefault_runtime = \"runc\"\n"
                               "[crio.runtime.runtimes.runc]\nruntime_root = \"/run/runc\"\n",
                               "a"));
  merge_crio_config(merged, parse_toml("[crio.runtime]\ndefault_runtime = \"crun\"\n"
                                       "[crio.runtime.runtimes.runc]\nmonitor_path = \"/m\"\n",
                                       "b"));
  CHECK(crio_default_runtime(merged) == "crun");
  auto runc = merged["crio"]["runtime"]["runtimes"]["runc"];
  CHECK(runc["runtime_root"].value<std::string>() == "/run/runc");
  CHECK(runc["monitor_path"].value<std::string>() == "/m");
}

TEST_CASE("crio: the runtime copied from is the default, then runc, then crun", "[config]") {
  auto config = parse_toml(
      "[crio.runtime]\ndefault_runtime = \"nvidia-old\"\n"
      "[crio.runtime.runtimes.crun]\nruntime_path = \"/usr/bin/crun\"\n"
      "runtime_root = \"/run/crun\"\nplatform_runtime_paths = { x = \"/y\" }\n",
      "crio.conf");
  auto base = crio_base_runtime(config, "nvidia");  // an nvidia* default is passed over
  REQUIRE(base);
  CHECK(base->name == "crun");
  CHECK(base->options == *parse_toml("runtime_root = \"/run/crun\"\n", "o").as_table());
  CHECK_FALSE(crio_base_runtime(toml::table{}, "nvidia"));
}

// nvidia-ctk's own CRI-O cases (../shared/fixtures/nvidia-ctk-cases/crio): for each engine
// and CLI case, our drop-in means what nvidia-ctk's does. Compared by meaning, as those tests
// compare: nvidia-ctk writes go-toml's layout, we write our template's.
TEST_CASE("crio drop-in: means what nvidia-ctk writes for its own cases", "[config]") {
  fs::path cases = test::shared_fixture("nvidia-ctk-cases/crio");
  REQUIRE(fs::is_directory(cases));
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(cases)) {
    std::string name = entry.path().filename().string();
    bool engine = name.rfind("engine-", 0) == 0;
    if (!engine && name.rfind("cli-", 0) != 0) continue;  // installer cases add three runtimes
    CAPTURE(name);
    std::string args = test::read_file(entry.path() / "args.txt");
    fs::path input = entry.path() / "input.toml";
    auto user =
        fs::exists(input) ? parse_toml(test::read_file(input), input.string()) : toml::table{};
    CrioDropin dropin;
    if (engine) dropin.runtime_name = "test", dropin.runtime_path = "/usr/bin/test";
    dropin.set_as_default = args.find("set-as-default") != std::string::npos;
    if (auto base = crio_base_runtime(user, dropin.runtime_name))
      dropin.inherited_options = base->options;
    fs::path expected = entry.path() / (engine ? "expected.toml" : "expected-dropin.toml");
    CHECK(parse_toml(render_shipped(dropin), "ours") ==
          parse_toml(test::read_file(expected), expected.string()));
    ++compared;
  }
  CHECK(compared == 9);
}
