#include "config/containerd_config.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "error.hpp"
#include "support/config_error.hpp"
#include "support/temp_root.hpp"

using namespace gns::config;

namespace {

const std::string k_path = "/etc/containerd/config.toml";

// The runtime tables configure appends to a flat file that has no other runtime to copy.
const std::string k_plain_runtime =
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.nvidia]\n"
    "  runtime_type = \"io.containerd.runc.v2\"\n"
    "\n"
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.nvidia.options]\n"
    "  BinaryName = \"/usr/bin/nvidia-container-runtime\"\n";

// The runc runtime configure writes before its own into a schema 1 or 2 file that has no
// runtimes: containerd 1.x would otherwise lose its built-in runc.
const std::string k_runc =
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
    "  runtime_type = \"io.containerd.runc.v2\"\n";

// The table configure appends for the default when the file has no place for it.
const std::string k_default_table =
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
    "  default_runtime_name = \"nvidia\"\n";

const std::string k_fresh_v2 =
    "version = 2\n\n" + k_runc + "\n" + k_plain_runtime + "\n" + k_default_table;

const std::string k_kubeadm = R"(version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.9"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"
          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            SystemdCgroup = true
)";

// No `version`: schema 1, where the io.containerd.grpc.v1.cri table means nothing.
const std::string k_v1 = R"(root = "/var/lib/containerd"

[plugins.cri.containerd]
  snapshotter = "overlayfs"

[plugins.cri.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

# Ignored by containerd: a file without `version` is schema 1.
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
)";

const std::string k_commented =
    R"(# /etc/containerd/config.toml -- edited by hand, keep the comments!
version = 2
root = "/data/containerd"   # big disk
oom_score = -999

[debug]
  level = "info"

[plugins."io.containerd.grpc.v1.cri"]
  # pause image from our mirror
  sandbox_image = "mirror.example.com/pause:3.9"

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"   # the usual one

  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = true
      # BinaryName = "/usr/local/sbin/runc"

[metrics]
  address = "127.0.0.1:1338"
)";

const std::string k_imports = R"(version = 2
imports = ["/etc/containerd/conf.d/*.toml"]

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
)";

// What the NVIDIA device plugin's README tells users to write: already what we want.
const std::string k_configured = R"(version = 2
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "nvidia"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
          runtime_type = "io.containerd.runc.v2"
          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
            BinaryName = "/usr/bin/nvidia-container-runtime"
)";

// Our runtime, and a default to change, all inside one inline table.
const std::string k_inline_containerd = R"(version = 2
[plugins."io.containerd.grpc.v1.cri"]
  containerd = { default_runtime_name = 'runc', runtimes = { nvidia = { options = { BinaryName = "/usr/bin/nvidia-container-runtime" } } } }
)";

ContainerdRuntimeSettings not_default() {
  ContainerdRuntimeSettings s;
  s.set_as_default = false;
  return s;
}

ContainerdEdit configure(std::string_view text, const ContainerdRuntimeSettings& s = {},
                         int64_t version_if_empty = 2) {
  return configure_containerd_runtime(text, k_path, version_if_empty, s);
}

// Undoes `edit` (which configure made of some file) the way `revert --force` does.
ContainerdEdit remove(std::string_view text, const ContainerdEdit& edit,
                      const std::string& name = "nvidia") {
  return remove_containerd_runtime(text, k_path, name, edit.previous_default,
                                   edit.runtime_added ? KeepRuntime::no : KeepRuntime::yes,
                                   edit.runc_added ? AddedRunc::yes : AddedRunc::no);
}

// Configuring twice changes nothing the second time, and removing what configure did gives
// back `x` byte for byte.
void check_reversible(const std::string& x, const ContainerdRuntimeSettings& s = {},
                      int64_t version_if_empty = 2) {
  INFO("input:\n" << x);
  const auto once = configure(x, s, version_if_empty);
  const auto twice = configure(once.text, s, version_if_empty);
  CHECK(twice.text == once.text);
  CHECK_FALSE(twice.changed);
  CHECK_FALSE(twice.runtime_added);
  CHECK_FALSE(twice.runc_added);
  CHECK(remove(once.text, once, s.runtime_name).text == x);
}

// The ConfigError that configuring `text` throws; the test fails if there is none.
gns::ConfigError config_error(std::string_view text, const ContainerdRuntimeSettings& s = {}) {
  return gns::test::config_error_from([&] { configure(text, s); }, text);
}

// The message of the Error, not a ConfigError, that configuring `text` throws.
std::string plain_error(std::string_view text) {
  try {
    configure(text);
  } catch (const gns::ConfigError& e) {
    FAIL("a ConfigError, not a plain Error: " << e.what());
  } catch (const gns::Error& e) {
    return e.what();
  }
  FAIL("configure accepted:\n" << text);
  return "";
}

}  // namespace

TEST_CASE("an empty file gets a fresh config of the version asked for", "[config]") {
  const auto v2 = configure("");
  CHECK(v2.text == k_fresh_v2);
  CHECK(v2.changed);
  CHECK(v2.runtime_added);
  CHECK(v2.runc_added);
  CHECK(v2.config_version == 2);
  CHECK_FALSE(v2.previous_default);

  const auto v3 = configure("", {}, 3);
  CHECK(v3.text ==
        "version = 3\n"
        "\n"
        "[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.nvidia]\n"
        "  runtime_type = \"io.containerd.runc.v2\"\n"
        "\n"
        "[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.nvidia.options]\n"
        "  BinaryName = \"/usr/bin/nvidia-container-runtime\"\n"
        "\n"
        "[plugins.\"io.containerd.cri.v1.runtime\".containerd]\n"
        "  default_runtime_name = \"nvidia\"\n");
  CHECK(v3.config_version == 3);
  CHECK_FALSE(v3.runc_added);  // containerd 2.x keeps its built-in runc
}

TEST_CASE("a file of blanks and comments keeps them and gets a fresh config after them",
          "[config]") {
  CHECK(configure("# written by hand\n\n").text == "# written by hand\n\n\n" + k_fresh_v2);
  CHECK(configure("  \n").text == "  \n\n" + k_fresh_v2);
}

TEST_CASE("containerd 1.6's own default config gets the runtime, copying runc", "[config]") {
  // `containerd config default` of containerd 1.6.20 (tests/fixtures/SOURCES.md).
  const std::string original =
      gns::test::read_file(gns::test::test_fixture("containerd/config-default-1.6.20.toml"));
  std::string expected = original;
  const std::string runc_default = "default_runtime_name = \"runc\"";
  expected.replace(expected.find(runc_default), runc_default.size(),
                   "default_runtime_name = \"nvidia\"");
  expected += R"(
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
          base_runtime_spec = ""
          cni_conf_dir = ""
          cni_max_conf_num = 0
          container_annotations = []
          pod_annotations = []
          privileged_without_host_devices = false
          runtime_engine = ""
          runtime_path = ""
          runtime_root = ""
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
            BinaryName = "/usr/bin/nvidia-container-runtime"
            CriuImagePath = ""
            CriuPath = ""
            CriuWorkPath = ""
            IoGid = 0
            IoUid = 0
            NoNewKeyring = false
            NoPivotRoot = false
            Root = ""
            ShimCgroup = ""
            SystemdCgroup = false
)";
  const auto edit = configure(original);
  CHECK(edit.text == expected);
  CHECK(edit.previous_default == "runc");
  check_reversible(original);
}

TEST_CASE("a kubeadm-style config's SystemdCgroup carries over to the new runtime", "[config]") {
  const auto edit = configure(k_kubeadm);
  CHECK(edit.text == R"(version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.9"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "nvidia"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"
          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            SystemdCgroup = true

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
            SystemdCgroup = true
            BinaryName = "/usr/bin/nvidia-container-runtime"
)");
  CHECK_FALSE(edit.previous_default);
}

TEST_CASE("a file without a version is configured the schema 1 way", "[config]") {
  const auto edit = configure(k_v1);
  CHECK(edit.config_version == 1);
  CHECK(edit.text == R"(root = "/var/lib/containerd"

[plugins.cri.containerd]
  default_runtime_name = "nvidia"
  snapshotter = "overlayfs"

[plugins.cri.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

# Ignored by containerd: a file without `version` is schema 1.
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true

[plugins.cri.containerd.runtimes.nvidia]
  runtime_type = "io.containerd.runc.v2"

[plugins.cri.containerd.runtimes.nvidia.options]
  BinaryName = "/usr/bin/nvidia-container-runtime"
  Runtime = "/usr/bin/nvidia-container-runtime"
)");
}

TEST_CASE("comments, custom keys and their layout stay byte for byte", "[config]") {
  const auto edit = configure(k_commented);
  std::string expected = k_commented;
  expected.replace(expected.find("\"runc\"   # the usual"), 6, "\"nvidia\"");
  expected += R"(
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
    runtime_type = "io.containerd.runc.v2"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
      SystemdCgroup = true
      BinaryName = "/usr/bin/nvidia-container-runtime"
)";
  CHECK(edit.text == expected);
  CHECK(edit.previous_default == "runc");
}

TEST_CASE("imports stay as they are, and the default table is added", "[config]") {
  CHECK(configure(k_imports).text == k_imports + R"(
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
  SystemdCgroup = true
  BinaryName = "/usr/bin/nvidia-container-runtime"

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "nvidia"
)");
}

TEST_CASE("a config that already has the runtime as default is left alone", "[config]") {
  const auto edit = configure(k_configured);
  CHECK_FALSE(edit.changed);
  CHECK(edit.text == k_configured);
  CHECK_FALSE(edit.runtime_added);
  CHECK(edit.previous_default == "nvidia");
  CHECK_FALSE(remove(edit.text, edit).changed);
}

TEST_CASE("without set_as_default the default is not touched", "[config]") {
  const auto edit = configure(k_commented, not_default());
  CHECK(edit.text.starts_with(k_commented));
  CHECK(edit.previous_default == "runc");
  const auto plain = configure("version = 2\n", not_default());
  CHECK(plain.text == "version = 2\n\n" + k_runc + "\n" + k_plain_runtime);
  // A default that already names the runtime is the user's choice: it stays.
  std::string named_only = k_configured;
  named_only.erase(named_only.find("        [plugins"));
  const auto kept = configure(named_only, not_default());
  CHECK(kept.text.find("default_runtime_name = \"nvidia\"") != std::string::npos);
  CHECK(kept.runtime_added);
}

TEST_CASE("CRLF files stay CRLF, a missing final newline stays missing where we append none",
          "[config]") {
  const std::string crlf =
      "version = 2\r\n\r\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\r\n"
      "  default_runtime_name = \"runc\"\r\n";
  const auto edit = configure(crlf);
  CHECK(edit.text.find("\n") == edit.text.find("\r\n") + 1);
  for (size_t at = edit.text.find('\n'); at != std::string::npos; at = edit.text.find('\n', at + 1))
    CHECK(edit.text[at - 1] == '\r');
  CHECK(edit.text.ends_with("BinaryName = \"/usr/bin/nvidia-container-runtime\"\r\n"));

  const std::string no_eol =
      "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
      "  default_runtime_name = \"runc\"";
  CHECK(configure(no_eol).text ==
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
        "  default_runtime_name = \"nvidia\"\n" +
            k_runc + "\n" + k_plain_runtime);
  const std::string runtime_first = "version = 2\n" + k_plain_runtime + no_eol.substr(12);
  CHECK(configure(runtime_first).text == "version = 2\n" + k_plain_runtime +
                                             "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
                                             "  default_runtime_name = \"nvidia\"");
}

TEST_CASE("dotted keys are edited where they are", "[config]") {
  // Keys flush left, as the files write theirs; runc too, as the file has no runtimes.
  const std::string runtime = R"(
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
BinaryName = "/usr/bin/nvidia-container-runtime"
)";
  const std::string replaced = R"(version = 2
[plugins]
"io.containerd.grpc.v1.cri".containerd.default_runtime_name = "runc"
)";
  CHECK(configure(replaced).text == R"(version = 2
[plugins]
"io.containerd.grpc.v1.cri".containerd.default_runtime_name = "nvidia"
)" + runtime);
  // The containerd table is defined by dotted keys: a [header] for it would be invalid TOML.
  const std::string dotted_table = R"(version = 2
[plugins."io.containerd.grpc.v1.cri"]
containerd.snapshotter = "overlayfs"
sandbox_image = "pause"
)";
  CHECK(configure(dotted_table).text == R"(version = 2
[plugins."io.containerd.grpc.v1.cri"]
containerd.snapshotter = "overlayfs"
containerd.default_runtime_name = "nvidia"
sandbox_image = "pause"
)" + runtime);
}

TEST_CASE("a default inside an inline table is changed in place", "[config]") {
  std::string expected = k_inline_containerd;
  expected.replace(expected.find("'runc'"), 6, "'nvidia'");
  CHECK(configure(k_inline_containerd).text == expected);
  // Adding the runtime under an inline table would mean rewriting it: refused.
  std::string without_runtime = k_inline_containerd;
  without_runtime.replace(without_runtime.find("nvidia"), 6, "gpu");
  CHECK(config_error(without_runtime).line() == 3);
}

TEST_CASE("single-quoted files get single quotes, camelCase option keys are reused", "[config]") {
  const std::string quoted =
      "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]\n"
      "runtime_type = 'io.containerd.runc.v2'\n";
  CHECK(configure(quoted).text ==
        quoted +
            "\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia]\n"
            "runtime_type = 'io.containerd.runc.v2'\n"
            "\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia.options]\n"
            "BinaryName = '/usr/bin/nvidia-container-runtime'\n"
            "\n[plugins.'io.containerd.cri.v1.runtime'.containerd]\n"
            "default_runtime_name = 'nvidia'\n");
  // kubespray writes binaryName: containerd matches it to BinaryName, so it must not be doubled.
  const std::string camel =
      "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
      "  binaryName = \"/usr/local/bin/runc\"\n  systemdCgroup = true\n";
  const auto edit = configure(camel, not_default());
  CHECK(
      edit.text.ends_with(".nvidia.options]\n"
                          "  binaryName = \"/usr/bin/nvidia-container-runtime\"\n"
                          "  systemdCgroup = true\n"));
}

TEST_CASE("another runtime with our name is never overwritten", "[config]") {
  // The gVisor trap: a runtime called "nvidia" that is runsc.
  const std::string gvisor =
      "version = 2\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.nvidia]\n"
      "  runtime_type = \"io.containerd.runsc.v1\"\n";
  CHECK_THAT(plain_error(gvisor), Catch::Contains(k_path + ":2:") &&
                                      Catch::Contains("io.containerd.runsc.v1") &&
                                      Catch::Contains("--runtime-name"));
  ContainerdRuntimeSettings other_name;
  other_name.runtime_name = "nvidia-gpu";
  check_reversible(gvisor, other_name);
  const std::string other_path =
      "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.nvidia.options]\n"
      "  BinaryName = \"/usr/local/nvidia/toolkit/nvidia-container-runtime\"\n";
  CHECK_THAT(plain_error(other_path), Catch::Contains("/usr/local/nvidia"));
}

TEST_CASE("structures that cannot take the edit are refused at their line", "[config]") {
  const auto inline_runtimes = config_error(
      "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
      "runtimes = { runc = { runtime_type = \"io.containerd.runc.v2\" } }\n");
  CHECK(inline_runtimes.path() == k_path);
  CHECK(inline_runtimes.line() == 3);
  CHECK_THAT(std::string(inline_runtimes.what()), Catch::Contains("inline table"));
  CHECK(config_error("version = 2\nplugins = 1\n").line() == 2);
  CHECK(config_error("version = 2\n[[plugins]]\n").line() == 2);
  // containerd 1.x makes a typed default_runtime table the default, whatever the name says.
  const std::string deprecated =
      "[plugins.cri.containerd]\n  default_runtime_name = \"runc\"\n"
      "[plugins.cri.containerd.default_runtime]\n  runtime_type = \"io.containerd.runc.v2\"\n";
  const auto e = config_error(deprecated);
  CHECK(e.line() == 3);
  CHECK_THAT(std::string(e.what()), Catch::Contains("default_runtime"));
  check_reversible(deprecated, not_default());
}

TEST_CASE("what is not a containerd config we know is a ConfigError with its position",
          "[config]") {
  const auto bad = config_error("[debug]\nlevel = debug");
  CHECK(bad.line() == 2);
  CHECK(bad.column() == 9);
  CHECK_THAT(std::string(bad.what()), Catch::StartsWith(k_path + ":2:9: "));
  CHECK(config_error("\n\nversion = 7\n").line() == 3);
  CHECK(config_error("version = \"2\"\n").line() == 1);
  CHECK_THROWS_AS(configure("", {}, 5), gns::Error);
}

TEST_CASE("a disabled CRI plugin is reported", "[config]") {
  CHECK(configure("disabled_plugins = [\"cri\"]\n").cri_disabled);
  CHECK(
      configure("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n").cri_disabled);
  CHECK_FALSE(configure("version = 2\ndisabled_plugins = [\"zfs\"]\n").cri_disabled);
}

TEST_CASE("remove keeps what was there before and what changed since", "[config]") {
  // The runtime was the user's: only the default goes back.
  std::string runtime_only = k_configured;
  runtime_only.replace(runtime_only.find("\"nvidia\""), 8, "\"runc\"");
  const auto edit = configure(runtime_only);
  CHECK_FALSE(edit.runtime_added);
  CHECK(edit.previous_default == "runc");
  CHECK(remove(edit.text, edit).text == runtime_only);
  // Someone set another default since: it is theirs now.
  std::string changed = configure(k_kubeadm).text;
  changed.replace(changed.find("\"nvidia\""), 8, "\"kata\"");
  const auto removed = remove_containerd_runtime(changed, k_path, "nvidia", std::nullopt);
  CHECK(removed.text.find("default_runtime_name = \"kata\"") != std::string::npos);
  CHECK(removed.text.find("runtimes.nvidia") == std::string::npos);
  CHECK(removed.previous_default == "kata");
  CHECK_FALSE(remove_containerd_runtime("version = 2\n", k_path, "nvidia", "runc").changed);
}

TEST_CASE("every example is idempotent and removes back to its bytes", "[config]") {
  const std::vector<std::string> inputs = {
      "",
      "\n",
      "# only a comment",
      "version = 2\n",
      k_kubeadm,
      k_v1,
      k_commented,
      k_imports,
      k_configured,
      "version = 2\r\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\r\n  x = 1",
      "version = 2\n[plugins]\n\"io.containerd.grpc.v1.cri\".containerd.snapshotter = \"o\"",
      "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd]\n",
      "version = 2\n\n" + k_plain_runtime,
      k_inline_containerd,
      "\xEF\xBB\xBFversion = 2\n[x]\n"};
  for (const auto& input : inputs) {
    if (input == "version = 2\n") {
      // Nothing but a version line comes back empty: it reads like one we wrote (documented).
      CHECK(remove(configure(input).text, configure(input)).text.empty());
      continue;
    }
    check_reversible(input);
    check_reversible(input, not_default());
    check_reversible(input, {}, 3);
  }
}

TEST_CASE("a schema 1 or 2 file without runtimes keeps containerd's runc, as a table of its own",
          "[config][containerd]") {
  // containerd 1.x drops its built-in runc once the file has a runtimes table (the corpus
  // integration test shows it with `containerd config dump`): runc goes in explicitly, first,
  // and the new runtime copies nothing from it, as there was nothing to copy.
  const std::string v1 =
      "root = \"/var/lib/containerd\"\n\n[plugins.cri.containerd]\n"
      "  snapshotter = \"overlayfs\"\n";
  const auto edit = configure(v1);
  CHECK(edit.runc_added);
  CHECK(edit.text == R"(root = "/var/lib/containerd"

[plugins.cri.containerd]
  default_runtime_name = "nvidia"
  snapshotter = "overlayfs"

[plugins.cri.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins.cri.containerd.runtimes.nvidia]
  runtime_type = "io.containerd.runc.v2"

[plugins.cri.containerd.runtimes.nvidia.options]
  BinaryName = "/usr/bin/nvidia-container-runtime"
  Runtime = "/usr/bin/nvidia-container-runtime"
)");
  check_reversible(v1);
  // Written in the file's style, like our own tables.
  const std::string quoted =
      "version = 2\n[plugins.'io.containerd.grpc.v1.cri']\n"
      "    sandbox_image = 'pause'\n";
  CHECK_THAT(configure(quoted, not_default()).text,
             Catch::StartsWith(quoted + "\n[plugins.'io.containerd.grpc.v1.cri'.containerd."
                                        "runtimes.runc]\n    runtime_type = "
                                        "'io.containerd.runc.v2'\n\n"));
  // Without set_as_default the runtimes table replaces the built-in one all the same.
  CHECK(configure("version = 2\n", not_default()).runc_added);
}

TEST_CASE("no explicit runc where containerd keeps or has lost its built-in one already",
          "[config][containerd]") {
  // The file names its runtimes: runc is there or was dropped by the user.
  CHECK_FALSE(configure(k_kubeadm).runc_added);
  CHECK_FALSE(configure("version = 2\n\n" + k_plain_runtime).runc_added);
  // An empty runtimes table has dropped the built-in runc already (containerd 1.6 dumps none).
  const std::string empty_runtimes =
      "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes]\n";
  const auto edit = configure(empty_runtimes);
  CHECK_FALSE(edit.runc_added);
  CHECK(edit.text.find("runtimes.runc") == std::string::npos);
  // Schemas 3 and 4 are read by containerd 2.x only, which keeps its built-in runc.
  CHECK_FALSE(configure("version = 3\n").runc_added);
  CHECK_FALSE(configure("version = 4\n").runc_added);
  // Our runtime is called runc: it is the one that takes the built-in one's place.
  ContainerdRuntimeSettings named_runc;
  named_runc.runtime_name = "runc";
  const auto as_runc = configure("version = 2\n", named_runc);
  CHECK_FALSE(as_runc.runc_added);
  CHECK(as_runc.text.find("runtimes.runc.options]") != std::string::npos);
}

TEST_CASE("revert takes our runc out, unless it is the user's now or another runtime needs it",
          "[config][containerd]") {
  const std::string original = "version = 2\n[debug]\n  level = \"info\"\n";
  const auto edit = configure(original);
  REQUIRE(edit.runc_added);
  CHECK(remove(edit.text, edit).text == original);
  // The operator has set something in runc since: it is theirs, and stays.
  std::string tuned = edit.text;
  const std::string type = "runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n";
  tuned.insert(tuned.find(type) + type.size(), "  privileged_without_host_devices = true\n");
  const auto kept = remove(tuned, edit).text;
  CHECK(kept == original + "\n" + k_runc + "  privileged_without_host_devices = true\n");
  // Another runtime came since: without runc beside it, containerd 1.x would lose runc again.
  const std::string kata =
      "\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.kata]\n"
      "  runtime_type = \"io.containerd.kata.v2\"\n";
  const auto with_kata = remove(edit.text + kata, edit).text;
  CHECK(with_kata.find(k_runc) != std::string::npos);
  CHECK(with_kata.find("runtimes.nvidia") == std::string::npos);
  // A record from before runc was recorded never takes a runc out.
  const auto old_record = remove_containerd_runtime(edit.text, k_path, "nvidia", std::nullopt);
  CHECK(old_record.text == original + "\n" + k_runc);
}

// AKS's GPU node config (../shared/fixtures/runtime-configs, trimmed): the NVIDIA runtime is the
// default already, called nvidia-container-runtime, with the host's SystemdCgroup, and no runc.
const std::string k_aks = R"(version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "nvidia-container-runtime"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia-container-runtime]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia-container-runtime.options]
    BinaryName = "/usr/bin/nvidia-container-runtime"
    SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.untrusted]
    runtime_type = "io.containerd.kata.v2"
)";

TEST_CASE("an NVIDIA runtime that is the default already under another name is recognised",
          "[config][containerd]") {
  const auto edit = configure(k_aks);
  CHECK_FALSE(edit.changed);
  CHECK(edit.text == k_aks);
  CHECK(edit.already_default == "nvidia-container-runtime");
  CHECK_FALSE(edit.runtime_added);
  CHECK_FALSE(edit.runc_added);
  // Keys match in any case, as containerd matches them; the v1 shim names its binary Runtime.
  std::string lower = k_aks;
  lower.replace(lower.find("BinaryName"), 10, "binaryname");
  CHECK(configure(lower).already_default == "nvidia-container-runtime");
  std::string v1_shim = k_aks;
  v1_shim.replace(v1_shim.find("io.containerd.runc.v2"), 21, "io.containerd.runtime.v1.linux");
  v1_shim.replace(v1_shim.find("BinaryName"), 10, "Runtime");
  CHECK(configure(v1_shim).already_default == "nvidia-container-runtime");
  // Nothing is added, so a runtime that has our name stands in no one's way.
  const std::string gvisor =
      k_aks +
      "  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.nvidia]\n"
      "    runtime_type = \"io.containerd.runsc.v1\"\n";
  CHECK(configure(gvisor).already_default == "nvidia-container-runtime");
}

TEST_CASE("another binary or shim as the default is not ours: the runtime is added",
          "[config][containerd]") {
  std::string toolkit = k_aks;
  toolkit.replace(toolkit.find("/usr/bin/"), 9, "/usr/local/nvidia/toolkit/");
  const auto other_binary = configure(toolkit);
  CHECK(other_binary.changed);
  CHECK_FALSE(other_binary.already_default);
  CHECK(other_binary.previous_default == "nvidia-container-runtime");
  std::string kata = k_aks;
  kata.replace(kata.find("io.containerd.runc.v2"), 21, "io.containerd.kata.v2");
  CHECK_FALSE(configure(kata).already_default);
  CHECK(configure(kata).runtime_added);
}

TEST_CASE("a runtime that runs the NVIDIA binary is copied before a fresh table is written",
          "[config][containerd]") {
  // Not asked to be the default: ours copies the default, which runs our binary.
  const auto added = configure(k_aks, not_default());
  CHECK(added.text == k_aks + R"(
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
    runtime_type = "io.containerd.runc.v2"

  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
    BinaryName = "/usr/bin/nvidia-container-runtime"
    SystemdCgroup = true
)");
  check_reversible(k_aks, not_default());
  // The default is kata and there is no runc: the runtime that runs our binary is the source.
  std::string kata_default = k_aks;
  kata_default.replace(kata_default.find("\"nvidia-container-runtime\""), 26, "\"untrusted\"");
  const auto copied = configure(kata_default);
  CHECK(copied.runtime_added);
  CHECK_THAT(copied.text, Catch::EndsWith("BinaryName = \"/usr/bin/nvidia-container-runtime\"\n"
                                          "    SystemdCgroup = true\n"));
  check_reversible(kata_default);
}
