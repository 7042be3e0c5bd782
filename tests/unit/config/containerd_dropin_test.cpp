#include "config/containerd_dropin.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/toml_document.hpp"
#include "error.hpp"
#include "support/config_error.hpp"
#include "support/temp_root.hpp"

using namespace gns::config;
namespace fs = std::filesystem;

namespace {

const std::string k_config = "/etc/containerd/config.toml";
const std::string k_dropin(k_containerd_dropin);

const std::string k_kubeadm_v2 = R"(version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
)";

const std::string k_comment =
    "# Written by gpu-node-setup: the NVIDIA runtime for containerd, imported by\n"
    "# /etc/containerd/config.toml; containerd 2.1 and later merge it key by key over that file.\n"
    "# `gpu-node-setup revert` removes it.\n";

ContainerdDropin configure(std::string_view text, const ContainerdRuntimeSettings& s = {}) {
  return configure_containerd_dropin(text, k_config, k_dropin, 3, s);
}

// Undoes what `dropin` did to config.toml the way `revert --force` does.
std::string remove(const std::string& text, const ContainerdDropin& dropin) {
  return remove_containerd_import(text, k_config, k_dropin, dropin.import).text;
}

// containerd 2.1's merge of an imported file: tables key by key, anything else replaced.
void merge_key_by_key(toml::table& into, const toml::table& from) {
  for (auto&& [key, node] : from) {
    toml::table* inner = into[key].as_table();
    if (inner && node.is_table()) {
      merge_key_by_key(*inner, *node.as_table());
    } else {
      into.insert_or_assign(key, node);
    }
  }
}

// What containerd 2.1 reads from config.toml `config` and the drop-in `dropin`, imports aside.
toml::table effective(const std::string& config, const std::string& dropin) {
  toml::table merged = parse_toml(config, "config.toml");
  merge_key_by_key(merged, parse_toml(dropin, "99-nvidia.toml"));
  merged.erase("imports");
  return merged;
}

fs::path golden_dir() {
  return fs::path(GNS_TEST_FIXTURES_DIR).parent_path() / "golden" / "containerd-dropin";
}

// `text` is the reviewed golden file `name`; GNS_TEST_ACCEPT=1 rewrites it instead, so that a
// change in what we write shows up as a diff in review.
void check_golden(const std::string& name, const std::string& text) {
  const fs::path path = golden_dir() / name;
  const char* accept = std::getenv("GNS_TEST_ACCEPT");
  if (accept && std::string(accept) == "1") {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    WARN("accepted " << path.string());
    return;
  }
  INFO("golden " << path.string() << " (GNS_TEST_ACCEPT=1 to accept)");
  REQUIRE(fs::exists(path));
  CHECK(gns::test::read_file(path) == text);
}

// The message of the Error, not a ConfigError, that configuring `text` throws.
std::string plain_error(std::string_view text, const std::string& config_path = k_config) {
  try {
    configure_containerd_dropin(text, config_path, k_dropin, 3, {});
  } catch (const gns::ConfigError& e) {
    FAIL("a ConfigError, not a plain Error: " << e.what());
  } catch (const gns::Error& e) {
    return e.what();
  }
  FAIL("configure accepted:\n" << text);
  return "";
}

gns::ConfigError config_error(std::string_view text) {
  return gns::test::config_error_from([&] { configure(text); }, text);
}

}  // namespace

TEST_CASE("containerd versions: upstream and Debian strings, and the 2.1 merge rule",
          "[config][containerd]") {
  CHECK(parse_containerd_version("containerd github.com/containerd/containerd v2.1.0 abc\n") ==
        ContainerdVersion{2, 1});
  CHECK(parse_containerd_version(
            "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n") ==
        ContainerdVersion{1, 6});
  CHECK(parse_containerd_version("containerd containerd.io 1.7.24 88bf19b\n") ==
        ContainerdVersion{1, 7});
  CHECK_FALSE(parse_containerd_version("containerd version unknown"));
  CHECK_FALSE(parse_containerd_version(""));
  CHECK_FALSE(parse_containerd_version("containerd x v2"));
  CHECK(merges_imports_key_by_key({2, 1}));
  CHECK(merges_imports_key_by_key({3, 0}));
  CHECK_FALSE(merges_imports_key_by_key({2, 0}));
  CHECK_FALSE(merges_imports_key_by_key({1, 7}));
}

TEST_CASE("drop-in: a kubeadm config keeps every byte and imports the runtime",
          "[config][containerd]") {
  const auto dropin = configure(k_kubeadm_v2);
  // The drop-in: config.toml's version, runc's SystemdCgroup carried over, the default.
  CHECK(dropin.text == k_comment + R"(version = 2

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
  SystemdCgroup = true
  BinaryName = "/usr/bin/nvidia-container-runtime"

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "nvidia"
)");
  // config.toml: one line, after the last top-level key.
  std::string expected = k_kubeadm_v2;
  expected.insert(expected.find('\n') + 1,
                  "imports = [\"/etc/containerd/conf.d/99-nvidia.toml\"]\n");
  CHECK(dropin.config.text == expected);
  CHECK(dropin.config.changed);
  CHECK(dropin.import == ContainerdImport::line);
  CHECK(dropin.config.config_version == 2);
  CHECK_FALSE(dropin.config.previous_default);
  CHECK(dropin.other_imports.empty());
  CHECK(remove(dropin.config.text, dropin) == k_kubeadm_v2);
  // containerd 2.1 reads exactly what the in-place edit would have written.
  CHECK(effective(dropin.config.text, dropin.text) ==
        parse_toml(configure_containerd_runtime(k_kubeadm_v2, k_config, 3, {}).text, "in place"));
}

TEST_CASE("drop-in: an import that already covers it leaves config.toml alone",
          "[config][containerd]") {
  for (const std::string entry :
       {"/etc/containerd/conf.d/*.toml", "conf.d/*.toml", "/etc/containerd/conf.d/99-nvidia.toml",
        "/etc/containerd//conf.d/../conf.d/99-nvidia.toml", "conf.d/9*"}) {
    INFO(entry);
    const std::string config = "version = 3\nimports = [\"" + entry + "\"]\n";
    const auto dropin = configure(config);
    CHECK_FALSE(dropin.config.changed);
    CHECK(dropin.config.text == config);
    CHECK(dropin.import == ContainerdImport::nothing);
    CHECK(remove(config, dropin) == config);
  }
  // Not ours: another extension, a glob one directory up (a `*` stops at '/'), a `?` without a
  // `*` (containerd globs only those), another file.
  for (const std::string entry :
       {"/etc/containerd/conf.d/*.conf", "/etc/containerd/*.toml",
        "/etc/containerd/conf.d/99-nvidia.tom?", "/etc/containerd/conf.d/10-site.toml"}) {
    INFO(entry);
    const auto dropin = configure("version = 3\nimports = [\"" + entry + "\"]\n");
    CHECK(dropin.import == ContainerdImport::entry);
    CHECK(dropin.other_imports == std::vector<std::string>{entry});
  }
}

TEST_CASE("drop-in: our path joins an imports array in its own layout", "[config][containerd]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"version = 2\nimports = [\"/a.toml\"]\n",
       "version = 2\nimports = [\"/a.toml\", \"/etc/containerd/conf.d/99-nvidia.toml\"]\n"},
      {"version = 2\nimports = ['/a.toml',]  # site\n",
       "version = 2\nimports = ['/a.toml', '/etc/containerd/conf.d/99-nvidia.toml',]  # site\n"},
      {"version = 2\nimports = []\n",
       "version = 2\nimports = [\"/etc/containerd/conf.d/99-nvidia.toml\"]\n"},
      {"version = 2\nimports = [\n  \"/a.toml\", # first\n  \"/b.toml\" # second\n]\n",
       "version = 2\nimports = [\n  \"/a.toml\", # first\n  \"/b.toml\", # second\n"
       "  \"/etc/containerd/conf.d/99-nvidia.toml\"\n]\n"},
      {"version = 2\r\nimports = [\r\n\t'/a.toml',\r\n]\r\n",
       "version = 2\r\nimports = [\r\n\t'/a.toml',\r\n\t'/etc/containerd/conf.d/99-nvidia.toml',"
       "\r\n]\r\n"},
      {"imports = [\"/a.toml\",\n           \"/b.toml\"]\nversion = 2\n",
       "imports = [\"/a.toml\",\n           \"/b.toml\", \"/etc/containerd/conf.d/99-nvidia.toml\"]"
       "\nversion = 2\n"},
  };
  for (const auto& [before, after] : cases) {
    INFO(before);
    const auto dropin = configure(before);
    CHECK(dropin.config.text == after);
    CHECK(dropin.import == ContainerdImport::entry);
    CHECK(remove(dropin.config.text, dropin) == before);
  }
}

TEST_CASE("drop-in: a new imports line goes after the last top-level key", "[config][containerd]") {
  const std::string eks = gns::test::read_file(
      gns::test::shared_fixture("runtime-configs/containerd--eks-nodeadm-e2e-v3-runc.toml"));
  const auto dropin = configure(eks);
  std::string expected = eks;
  expected.insert(expected.find("version = 3\n") + 12,
                  "imports = ['/etc/containerd/conf.d/99-nvidia.toml']\n");
  CHECK(dropin.config.text == expected);
  CHECK(dropin.config.previous_default == "runc");
  CHECK(remove(dropin.config.text, dropin) == eks);
  check_golden("eks-nodeadm-e2e-v3-runc.99-nvidia.toml", dropin.text);
  CHECK(effective(dropin.config.text, dropin.text) ==
        parse_toml(configure_containerd_runtime(eks, k_config, 3, {}).text, "in place"));
}

TEST_CASE("drop-in: containerd 2.x's own config with its conf.d glob needs no import",
          "[config][containerd]") {
  const std::string capi = gns::test::read_file(gns::test::shared_fixture(
      "runtime-configs/containerd--capi-image-builder-aws-containerd2.3.toml"));
  const auto dropin = configure(capi);
  CHECK_FALSE(dropin.config.changed);
  CHECK(dropin.other_imports == std::vector<std::string>{"/etc/containerd/conf.d/*.toml"});
  check_golden("capi-image-builder-aws-containerd2.3.99-nvidia.toml", dropin.text);
  const auto meaning = parse_toml(dropin.text, "99-nvidia.toml");
  const auto nvidia = meaning["plugins"]["io.containerd.cri.v1.runtime"]["containerd"];
  CHECK(nvidia["default_runtime_name"].value<std::string>() == "nvidia");
  CHECK(nvidia["runtimes"]["nvidia"]["options"]["SystemdCgroup"].value<bool>() == true);
  CHECK(meaning["version"].value<int64_t>() == 3);
}

TEST_CASE("drop-in: a missing or blank config.toml gets a version and the import",
          "[config][containerd]") {
  for (const std::string blank : {"", "# site comment\n"}) {
    INFO(blank);
    const auto dropin = configure(blank);
    CHECK(dropin.config.text ==
          (blank.empty() ? "" : blank + "\n") +
              "version = 3\nimports = [\"/etc/containerd/conf.d/99-nvidia.toml\"]\n");
    CHECK(dropin.import == ContainerdImport::file);
    CHECK(remove(dropin.config.text, dropin) == blank);
    if (blank.empty()) check_golden("no-config-v3.99-nvidia.toml", dropin.text);
  }
  // One that only had `version`: the line we added goes, theirs stays.
  const auto versioned = configure("version = 3\n");
  CHECK(versioned.import == ContainerdImport::line);
  CHECK(remove(versioned.config.text, versioned) == "version = 3\n");
}

TEST_CASE("drop-in: not the default leaves default_runtime_name out", "[config][containerd]") {
  ContainerdRuntimeSettings s;
  s.set_as_default = false;
  s.runtime_name = "nvidia-gpu";
  const auto dropin = configure(k_kubeadm_v2, s);
  CHECK(dropin.text.find("default_runtime_name") == std::string::npos);
  CHECK(dropin.text.find("runtimes.nvidia-gpu.options]") != std::string::npos);
}

TEST_CASE("drop-in: configs containerd would not read it with are refused",
          "[config][containerd]") {
  // Version 1: short plugin names a version 2 drop-in does not share.
  CHECK_THAT(plain_error("[plugins.cri.containerd]\n  snapshotter = \"overlayfs\"\n"),
             Catch::Contains("version 1"));
  // A config that is the drop-in would import itself.
  CHECK_THAT(plain_error("version = 2\n", k_dropin), Catch::Contains("import itself"));
  CHECK_THAT(plain_error("version = 2\n", "/etc/containerd/conf.d/./99-nvidia.toml"),
             Catch::Contains("import itself"));
  // Another runtime with our name is never shadowed.
  CHECK_THAT(plain_error("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd."
                         "runtimes.nvidia]\n  runtime_type = \"io.containerd.runsc.v1\"\n"),
             Catch::Contains("--runtime-name"));
  CHECK(config_error("version = 2\nimports = \"/a.toml\"\n").line() == 2);
  CHECK(config_error("version = 2\nimports = [\"/a.toml\", 1]\n").line() == 2);
  CHECK(config_error("version = 2\n[plugins\n").line() == 2);
  const auto deprecated = config_error(
      "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.default_runtime]\n"
      "  runtime_type = \"io.containerd.runc.v2\"\n");
  CHECK(deprecated.line() == 2);
}

TEST_CASE("drop-in: revert --force takes out our import, whatever else changed since",
          "[config][containerd]") {
  const auto dropin = configure("version = 2\nimports = [\"/a.toml\"]\n\n[debug]\n  level = 1\n");
  std::string edited = dropin.config.text;
  edited.replace(edited.find("level = 1"), 9, "level = 2");
  edited.insert(edited.find("\"/etc"), "\"/b.toml\", ");  // the operator's own import
  CHECK(remove(edited, dropin) ==
        "version = 2\nimports = [\"/a.toml\", \"/b.toml\"]\n\n[debug]\n  level = 2\n");
  // Our import is gone already: nothing to take out.
  CHECK(remove("version = 2\n", dropin) == "version = 2\n");
}

TEST_CASE("drop-in: on every real config of the corpus, containerd 2.1 reads what in place means",
          "[config][containerd]") {
  int compared = 0;
  int version_1 = 0;
  int runc_left_out = 0;
  for (const auto& entry : fs::directory_iterator(gns::test::shared_fixture("runtime-configs"))) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("containerd") && !name.starts_with("edge--containerd")) continue;
    INFO(name);
    const std::string original = gns::test::read_file(entry.path());
    ContainerdEdit in_place;
    try {
      in_place = configure_containerd_runtime(original, k_config, 3, {});
    } catch (const gns::Error&) {
      continue;  // refused in place (corpus test): nothing to compare with
    }
    if (!in_place.changed) continue;
    if (in_place.config_version == 1) {
      CHECK_THAT(plain_error(original), Catch::Contains("version 1"));
      ++version_1;
      continue;
    }
    const auto dropin = configure(original);
    // In place, a schema 2 file without runtimes also gets runc, for containerd 1.x, which
    // would drop its built-in one; 2.1 keeps it, and the drop-in has none (its header says why).
    toml::table expected = effective(in_place.text, "");
    runc_left_out += in_place.runc_added ? 1 : 0;
    if (in_place.runc_added) {
      auto runtimes = expected["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"];
      runtimes.as_table()->erase("runc");
    }
    CHECK(dropin.text.find("runtimes.runc") == std::string::npos);
    CHECK(effective(dropin.config.text, dropin.text) == expected);
    CHECK(remove(dropin.config.text, dropin) == original);
    const auto again = configure(dropin.config.text);
    CHECK_FALSE(again.config.changed);
    CHECK(again.text == dropin.text);
    ++compared;
  }
  CHECK(compared == 26);      // AKS's GPU config has nothing to do: its default runs our binary
  CHECK(runc_left_out == 2);  // bottlerocket-basic, cri-in-userns
  CHECK(version_1 == 6);      // files without `version`, talos parts among them
}

TEST_CASE("drop-in: nothing to write where config.toml's default runs the NVIDIA runtime already",
          "[config][containerd]") {
  const std::string aks = gns::test::read_file(
      gns::test::shared_fixture("runtime-configs/containerd--aks-agentbaker-gpu-rendered.toml"));
  const auto dropin = configure(aks);
  CHECK(dropin.config.already_default == "nvidia-container-runtime");
  CHECK(dropin.text.empty());
  CHECK_FALSE(dropin.config.changed);
  CHECK(dropin.config.text == aks);
  CHECK(dropin.import == ContainerdImport::nothing);
  // Not asked to be the default: the runtime is added, copying that one's SystemdCgroup.
  ContainerdRuntimeSettings not_default;
  not_default.set_as_default = false;
  const auto added = configure(aks, not_default);
  CHECK_FALSE(added.config.already_default);
  const toml::table written = parse_toml(added.text, "99-nvidia.toml");
  const auto runtimes = written["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"];
  CHECK(runtimes["nvidia"]["options"]["SystemdCgroup"].value<bool>() == true);
  const auto facts = read_containerd_config_facts(aks, k_config, 3, {});
  CHECK(facts.has_runtime);
}
