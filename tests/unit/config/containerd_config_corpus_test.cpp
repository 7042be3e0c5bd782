// configure_containerd_runtime on every real containerd config in ../shared/fixtures: each file
// has a decided outcome, every edit is idempotent and removes back to the original bytes, and,
// where containerd 1.6 is installed, containerd reads our edit as meaning what we say.

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "config/containerd_config.hpp"
#include "config/toml_document.hpp"
#include "error.hpp"
#include "host/host_root.hpp"
#include "host/runner.hpp"
#include "support/temp_root.hpp"

using namespace gns::config;
namespace fs = std::filesystem;

namespace {

enum class Outcome {
  changed,             // the runtime (and the default) are added
  unchanged,           // already configured as asked
  foreign_runtime,     // another runtime is called "nvidia": Error
  deprecated_default,  // a typed `default_runtime` table would override the default: ConfigError
  malformed,           // not TOML (templates, broken files): ConfigError
};

// Decided by reading each file and ../shared/fixtures/runtime-configs/SOURCES.md.
const std::map<std::string, Outcome> k_outcomes = {
    {"containerd--aero-faas-kata-fc-v2-dump.toml", Outcome::changed},
    {"containerd--aks-agentbaker-gb200-static-nvidia.toml", Outcome::unchanged},
    // Its default, nvidia-container-runtime, runs /usr/bin/nvidia-container-runtime already.
    {"containerd--aks-agentbaker-gpu-rendered.toml", Outcome::unchanged},
    {"containerd--aks-agentbaker-gpu.toml.gtpl", Outcome::malformed},
    {"containerd--bottlerocket-basic.toml", Outcome::changed},
    {"containerd--bottlerocket-basic.toml.tmpl", Outcome::malformed},
    {"containerd--bottlerocket-k8s-nvidia.toml", Outcome::foreign_runtime},
    {"containerd--bottlerocket-k8s-nvidia.toml.tmpl", Outcome::malformed},
    {"containerd--capi-image-builder-aws-containerd2.3.toml", Outcome::changed},
    {"containerd--capi-image-builder-azure-containerd1.7.toml", Outcome::changed},
    {"containerd--capi-image-builder.toml.j2", Outcome::malformed},
    {"containerd--chinayin-config-path-noversion-noeol.toml", Outcome::changed},
    {"containerd--containerd-cri-in-userns-rootless.toml", Outcome::changed},
    {"containerd--containerd-docs-cri-config-1.x-v2-commented.toml", Outcome::changed},
    {"containerd--containerd-docs-cri-config-2.x-v3.toml", Outcome::changed},
    {"containerd--containerd-testdata-custom-1.7.toml", Outcome::changed},
    {"containerd--containerd-testdata-default-1.6.toml", Outcome::changed},
    {"containerd--containerd-testdata-default-1.7.toml", Outcome::changed},
    {"containerd--dream-build2020-v2-default-aliyun-pause.toml", Outcome::deprecated_default},
    {"containerd--eks-ami-nodeadm-v2.toml", Outcome::changed},
    {"containerd--eks-ami-nodeadm-v2.toml.tmpl", Outcome::malformed},
    {"containerd--eks-ami-nodeadm-v3-soci.toml", Outcome::changed},
    {"containerd--eks-ami-nodeadm-v3.toml.tmpl", Outcome::malformed},
    {"containerd--eks-nodeadm-e2e-migrated-v3-full-nvidia.toml", Outcome::unchanged},
    {"containerd--eks-nodeadm-e2e-v2-nvidia-default.toml", Outcome::unchanged},
    {"containerd--eks-nodeadm-e2e-v3-runc.toml", Outcome::changed},
    {"containerd--fff-rs-concourse-gpgpu-commented-v1.toml", Outcome::changed},
    {"containerd--idein-containerd.io-pkg-default-cri-disabled.toml", Outcome::changed},
    {"containerd--jessfraz-dotfiles-v1-dump.toml", Outcome::deprecated_default},
    {"containerd--k3s-generated-from-v-wan-k3d-gpu-template.toml", Outcome::unchanged},
    {"containerd--kind-node-image-2019-v1.toml", Outcome::deprecated_default},
    {"containerd--kind-node-image-2023-mirrors.toml", Outcome::changed},
    {"containerd--kind-node-image.toml", Outcome::changed},
    {"containerd--krisnova-mixed-v1-v2-names-noversion-noeol.toml", Outcome::changed},
    {"containerd--kubespray-2024-defaults-containerd1.7.toml", Outcome::changed},
    {"containerd--kubespray-2024-defaults-containerd1.7.toml.j2", Outcome::malformed},
    {"containerd--kubespray-defaults-containerd2.3.toml", Outcome::changed},
    {"containerd--kubespray-defaults-containerd2.3.toml.j2", Outcome::malformed},
    {"containerd--lucheng0127-v2-1.7-default-private-pause.toml", Outcome::changed},
    {"containerd--meezaan-v2-1.6-default-systemdcgroup.toml", Outcome::changed},
    {"containerd--minikube-kicbase.toml", Outcome::changed},
    {"containerd--nvidia-ctk-tests-docker-embedded-v1-dump.toml", Outcome::deprecated_default},
    {"containerd--nvidia-ctk-tests-docker-embedded-v2-dump.toml", Outcome::changed},
    {"containerd--nvidia-k8s-device-plugin-readme-nvidia-only.toml", Outcome::unchanged},
    {"containerd--talos-cri-00-base.part.toml", Outcome::changed},
    {"containerd--talos-cri-containerd-imports.toml", Outcome::changed},
    {"containerd--talos-docs-20-customization-nvidia-default.part.toml", Outcome::changed},
    {"containerd--talos-ext-10-nvidia-container-runtime.part.toml", Outcome::changed},
    {"containerd--talos-merged-output-sha-header.toml", Outcome::changed},
    {"containerd--talos-system-containerd-cri-disabled-v3.toml", Outcome::changed},
    {"containerd--tarvitz-v1-registry-auths.toml", Outcome::deprecated_default},
    {"containerd--tuttlebr-gpu-operator-written-nvidia-default.toml", Outcome::foreign_runtime},
    {"edge--containerd-dleseigneur-append-fragment-toplevel-default-runtime.toml",
     Outcome::foreign_runtime},
    {"edge--containerd-empty-nvidia-ctk-tests.toml", Outcome::changed},
    {"edge--containerd-krisnova-unquoted-value.toml", Outcome::malformed},
    {"edge--containerd-kubuverse-v2-docs-plus-v3-default-concatenated.toml", Outcome::malformed},
};

// The files whose disabled_plugins switch the CRI plugin off.
const std::set<std::string> k_cri_disabled = {
    "containerd--bottlerocket-basic.toml",
    "containerd--idein-containerd.io-pkg-default-cri-disabled.toml",
    "containerd--talos-system-containerd-cri-disabled-v3.toml",
};

fs::path corpus_dir() { return gns::test::shared_fixture("runtime-configs"); }

bool is_containerd_config(const std::string& name) {
  return name.starts_with("containerd") || name.starts_with("edge--containerd");
}

ContainerdRuntimeSettings settings(bool set_as_default, const std::string& name = "nvidia") {
  ContainerdRuntimeSettings s;
  s.runtime_name = name;
  s.set_as_default = set_as_default;
  return s;
}

// Configures `original`, then checks that a second run changes nothing and that removing
// what the first did gives `original` back byte for byte. Returns the first edit.
ContainerdEdit check_round_trip(const std::string& name, const std::string& original,
                                const ContainerdRuntimeSettings& s) {
  INFO(name << " as " << s.runtime_name << (s.set_as_default ? " (default)" : ""));
  const auto once = configure_containerd_runtime(original, name, 2, s);
  const auto twice = configure_containerd_runtime(once.text, name, 2, s);
  CHECK_FALSE(twice.changed);
  CHECK(twice.text == once.text);
  const auto back =
      remove_containerd_runtime(once.text, name, s.runtime_name, once.previous_default,
                                once.runtime_added ? KeepRuntime::no : KeepRuntime::yes,
                                once.runc_added ? AddedRunc::yes : AddedRunc::no);
  CHECK(back.text == original);
  CHECK(once.cri_disabled == (k_cri_disabled.count(name) == 1));
  return once;
}

void check_outcome(const std::string& name, const std::string& original, Outcome outcome) {
  INFO(name);
  switch (outcome) {
    case Outcome::changed:
    case Outcome::unchanged:
      CHECK(check_round_trip(name, original, settings(true)).changed ==
            (outcome == Outcome::changed));
      check_round_trip(name, original, settings(false));
      return;
    case Outcome::foreign_runtime:
      CHECK_THROWS_WITH(configure_containerd_runtime(original, name, 2, settings(true)),
                        Catch::Contains("--runtime-name"));
      check_round_trip(name, original, settings(true, "nvidia-gpu"));
      return;
    case Outcome::deprecated_default:
      CHECK_THROWS_AS(configure_containerd_runtime(original, name, 2, settings(true)),
                      gns::ConfigError);
      check_round_trip(name, original, settings(false));
      return;
    case Outcome::malformed:
      try {
        configure_containerd_runtime(original, name, 2, settings(true));
        FAIL("accepted");
      } catch (const gns::ConfigError& e) {
        CHECK(e.line() > 0);
      }
      return;
  }
}

// What `containerd config dump` (containerd 1.6) makes of `text`, or nothing when containerd
// is not installed or refuses the file.
std::optional<toml::table> containerd_dump(gns::host::Runner& runner, const std::string& text) {
  gns::test::TempRoot tmp;
  tmp.write("/config.toml", text);
  const std::string file = (tmp / "/config.toml").string();
  const auto result = runner.run({"containerd", {"--config", file, "config", "dump"}});
  if (!result.succeeded()) return std::nullopt;
  return parse_toml(result.out, "containerd config dump");
}

// True when `value` is what an absent option reads as: "", 0 or false.
bool zero_value(const toml::node& value) {
  return value.value_or(std::string("x")).empty() || value.value_or(int64_t{1}) == 0 ||
         value.value_or(true) == false;
}

// Every runtime of dump `before` is in dump `after`, with the same type and options, except
// options of zero value that are gone (the built-in runc's, which our explicit runc leaves out).
void check_runtimes_kept(const toml::table& before, const toml::table& after) {
  const auto runtimes = [](const toml::table& dump) {
    return dump["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"];
  };
  const toml::table* old_runtimes = runtimes(before).as_table();
  REQUIRE(old_runtimes);
  for (auto&& [name, runtime] : *old_runtimes) {
    INFO("runtime " << name.str());
    const auto kept = runtimes(after)[name.str()];
    REQUIRE(kept.is_table());
    const toml::node_view<const toml::node> before_runtime(runtime);
    CHECK(kept["runtime_type"] == before_runtime["runtime_type"]);
    const toml::table* options = before_runtime["options"].as_table();
    for (auto&& [key, value] : options ? *options : toml::table{}) {
      INFO("option " << key.str());
      const auto now = kept["options"][key.str()];
      CHECK((now ? now == toml::node_view<const toml::node>(value) : zero_value(value)));
    }
  }
}

// The binary a dumped runtime's options name: containerd keeps the key as the file spells it.
std::string dumped_binary(toml::node_view<const toml::node> runtime) {
  if (const toml::table* options = runtime["options"].as_table())
    for (auto&& [key, value] : *options)
      if (key.str() == "BinaryName" || key.str() == "binaryName")
        return value.value_or(std::string());
  return "";
}

}  // namespace

TEST_CASE("every containerd config in the shared corpus has a decided outcome", "[config]") {
  std::set<std::string> seen;
  for (const auto& entry : fs::directory_iterator(corpus_dir())) {
    const std::string name = entry.path().filename().string();
    if (!is_containerd_config(name)) continue;
    seen.insert(name);
    INFO(name << " is new: decide what configuring it should do");
    CHECK(k_outcomes.count(name) == 1);
  }
  for (const auto& [name, outcome] : k_outcomes) CHECK(seen.count(name) == 1);
}

TEST_CASE("the shared corpus configures, is idempotent and removes back to its bytes", "[config]") {
  for (const auto& [name, outcome] : k_outcomes)
    check_outcome(name, gns::test::read_file(corpus_dir() / name), outcome);
}

TEST_CASE("containerd 1.6 reads the configured corpus as we mean it", "[config]") {
  const gns::host::HostRoot root("/");
  gns::host::ProcessRunner runner(root, gns::null_log_sink());
  try {
    runner.run({"containerd", {"--version"}});
  } catch (const gns::Error&) {
    WARN("containerd is not installed: not checked");
    return;
  }
  for (const auto& [name, outcome] : k_outcomes) {
    const std::string original = gns::test::read_file(corpus_dir() / name);
    const bool as_default = outcome != Outcome::deprecated_default;
    if (outcome == Outcome::foreign_runtime || outcome == Outcome::malformed) continue;
    const auto edit = configure_containerd_runtime(original, name, 2, settings(as_default));
    // containerd 1.6 ignores the v3 tables; a file it refuses as it stands proves nothing.
    if (edit.config_version > 2 || edit.cri_disabled || !containerd_dump(runner, original))
      continue;
    INFO(name);
    const auto dump = containerd_dump(runner, edit.text);
    REQUIRE(dump);
    const auto containerd = (*dump)["plugins"]["io.containerd.grpc.v1.cri"]["containerd"];
    const std::string ours = edit.already_default.value_or("nvidia");
    CHECK(dumped_binary(containerd["runtimes"][ours]) == "/usr/bin/nvidia-container-runtime");
    if (as_default) CHECK(containerd["default_runtime_name"].value_or(std::string()) == ours);
    // runc above all: a RuntimeClass with handler runc must go on working.
    check_runtimes_kept(*containerd_dump(runner, original), *dump);
  }
}
