// The containerd half of the runtime stage (src/stages/runtime_containerd.cpp): which layout the
// installed containerd gets (config.toml in place, or our drop-in that it imports), asked of a
// RecordingRunner that plays `containerd --version`; apply, status, second apply and revert of
// a drop-in setup through the engine, all under a TempRoot.

#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "stages/engine.hpp"
#include "stages/runtime_stage.hpp"
#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::stages;

namespace {

const std::string k_config = "/etc/containerd/config.toml";
const std::string k_dropin = "/etc/containerd/conf.d/99-nvidia.toml";

const std::string k_kubeadm =
    "version = 2\n"
    "\n"
    "[plugins.\"io.containerd.grpc.v1.cri\"]\n"
    "  sandbox_image = \"registry.k8s.io/pause:3.9\"\n"
    "\n"
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
    "  runtime_type = \"io.containerd.runc.v2\"\n"
    "\n"
    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
    "  SystemdCgroup = true\n";

const std::vector<std::string> k_version_argv = {"containerd", "--version"};

struct Fixture {
  test::TempRoot dir;
  host::HostRoot root{dir.path()};
  test::RecordingRunner runner;
  StageContext ctx{root, runner};

  // The next `containerd --version` (and the one after) answers as `version` would.
  void containerd(const std::string& version) {
    host::CommandResult result;
    result.out = "containerd github.com/containerd/containerd v" + version + " 1234abcd\n";
    runner.respond("containerd", result);
    runner.respond("containerd", result);
  }
  long version_asked() const {
    const auto argvs = runner.argvs();
    return std::count(argvs.begin(), argvs.end(), k_version_argv);
  }
};

RuntimeSettings containerd_settings(std::optional<bool> drop_in = std::nullopt) {
  RuntimeSettings settings;
  settings.runtime = RuntimeKind::containerd;
  settings.drop_in = drop_in;
  return settings;
}

// The message of the UsageError planning with `settings` throws; the test fails without one.
std::string usage_error(Fixture& f, const RuntimeSettings& settings) {
  try {
    RuntimeStage(settings).plan(f.ctx);
  } catch (const UsageError& e) {
    return e.what();
  }
  FAIL("no UsageError");
  return "";
}

}  // namespace

TEST_CASE("containerd 2.1: a kubeadm config.toml imports a drop-in that holds the runtime",
          "[stages][containerd]") {
  Fixture f;
  f.dir.write(k_config, k_kubeadm);
  f.containerd("2.1.0");
  StagePlan plan = RuntimeStage(containerd_settings()).plan(f.ctx);
  REQUIRE(plan.edits.size() == 2);
  // The drop-in first, so that config.toml never imports a file that is not there.
  CHECK(plan.edits[0].path == k_dropin);
  CHECK_FALSE(plan.edits[0].before);
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("version = 2\n") &&
                                       Catch::Contains("SystemdCgroup = true\n") &&
                                       Catch::Contains("default_runtime_name = \"nvidia\""));
  CHECK(plan.edits[1].path == k_config);
  CHECK(plan.edits[1].before == k_kubeadm);
  CHECK(*plan.edits[1].after ==
        "version = 2\nimports = [\"/etc/containerd/conf.d/99-nvidia.toml\"]\n" +
            k_kubeadm.substr(12));
  const auto& record = plan.undo["containerd"];
  CHECK(record["config"] == k_config);
  CHECK(record["drop_in"] == k_dropin);
  CHECK(record["import"] == "line");
  CHECK(record["previous_default"].is_null());
  CHECK(f.version_asked() == 1);
}

TEST_CASE("containerd 2.1: no config.toml at all gets a version 3 one that imports the drop-in",
          "[stages][containerd]") {
  Fixture f;
  f.containerd("2.1.0");
  StagePlan plan = RuntimeStage(containerd_settings()).plan(f.ctx);
  REQUIRE(plan.edits.size() == 2);
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("plugins.\"io.containerd.cri.v1.runtime\""));
  CHECK_FALSE(plan.edits[1].before);
  CHECK(*plan.edits[1].after ==
        "version = 3\nimports = [\"/etc/containerd/conf.d/99-nvidia.toml\"]\n");
  CHECK(plan.undo["containerd"]["import"] == "file");
}

TEST_CASE("containerd 2.1: a conf.d glob import already covers the drop-in",
          "[stages][containerd]") {
  Fixture f;
  f.dir.write(k_config, "version = 3\nimports = [\"/etc/containerd/conf.d/*.toml\"]\n");
  f.containerd("2.1.0");
  StagePlan plan = RuntimeStage(containerd_settings(true)).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == k_dropin);
  CHECK(plan.undo["containerd"]["import"] == "nothing");
}

TEST_CASE("containerd 2.0 and 1.7 get config.toml edited in place, --drop-in is refused there",
          "[stages][containerd]") {
  for (const std::string version : {"2.0.5", "1.7.24"}) {
    INFO(version);
    Fixture f;
    f.dir.write(k_config, k_kubeadm);
    f.containerd(version);
    StagePlan plan = RuntimeStage(containerd_settings()).plan(f.ctx);
    REQUIRE(plan.edits.size() == 1);
    CHECK(plan.edits[0].path == k_config);
    CHECK_THAT(*plan.edits[0].after, Catch::Contains("runtimes.nvidia.options]"));
    CHECK_FALSE(plan.undo["containerd"].contains("drop_in"));

    f.containerd(version);
    const std::string refused = usage_error(f, containerd_settings(true));
    CHECK_THAT(refused, Catch::StartsWith("--drop-in: containerd " + version.substr(0, 3) +
                                          " replaces a plugin's whole table") &&
                            Catch::Contains("edited in place"));
    CHECK_FALSE(f.root.exists(k_dropin));
  }
}

TEST_CASE("containerd: --drop-in is refused where containerd could not read it as meant",
          "[stages][containerd]") {
  Fixture f;
  // No containerd to ask: no way to know its merge rule.
  f.runner.respond("containerd", {1, std::nullopt, false, "", "not found"});
  CHECK_THAT(usage_error(f, containerd_settings(true)),
             Catch::Contains("cannot tell which containerd is installed"));
  // A version 1 config, even on 2.1 (and asked nothing: the file decides).
  Fixture v1;
  v1.dir.write(k_config, "[plugins.cri.containerd]\n  snapshotter = \"overlayfs\"\n");
  v1.containerd("2.1.0");
  CHECK_THAT(usage_error(v1, containerd_settings(true)), Catch::Contains("version 1"));
  StagePlan in_place = RuntimeStage(containerd_settings()).plan(v1.ctx);
  REQUIRE(in_place.edits.size() == 1);
  CHECK(in_place.edits[0].path == k_config);
  CHECK(v1.version_asked() == 0);
  // --config naming the drop-in: it would import itself.
  RuntimeSettings self = containerd_settings(true);
  self.config_path = k_dropin;
  CHECK_THAT(usage_error(f, self), Catch::Contains("cannot import itself"));
}

TEST_CASE("containerd: --no-drop-in and an in-place setup stay in place on 2.1 unasked",
          "[stages][containerd]") {
  Fixture f;
  f.dir.write(k_config, k_kubeadm);
  f.containerd("2.1.0");
  StagePlan plan = RuntimeStage(containerd_settings(false)).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == k_config);
  f.dir.write(k_config, *plan.edits[0].after);
  CHECK(RuntimeStage(containerd_settings()).plan(f.ctx).empty());
  CHECK(f.version_asked() == 0);
}

TEST_CASE("containerd 2.1: apply, then nothing to do and applied, a lost import is drift",
          "[stages][containerd]") {
  Fixture f;
  f.dir.write(k_config, k_kubeadm);
  RuntimeStage stage(containerd_settings());
  Journal journal;
  f.containerd("2.1.0");
  apply_plan(f.ctx, journal, stage.plan(f.ctx));
  REQUIRE(f.root.exists(k_dropin));
  const std::string applied = test::read_file(f.dir / k_config);

  f.containerd("2.1.0");
  CHECK(stage.plan(f.ctx).empty());
  f.containerd("2.1.0");
  CHECK(RuntimeStage({}).inspect(f.ctx, journal.find("runtime")).state == StageState::applied);

  f.dir.write(k_config, k_kubeadm);  // someone put their own file back
  f.containerd("2.1.0");
  CHECK(RuntimeStage({}).inspect(f.ctx, journal.find("runtime")).state == StageState::drifted);
  f.dir.write(k_config, applied);
  f.dir.write(k_dropin, "version = 2\n");  // or emptied ours
  f.containerd("2.1.0");
  CHECK(RuntimeStage({}).inspect(f.ctx, journal.find("runtime")).state == StageState::drifted);
}

TEST_CASE("containerd 2.1: revert restores both files, --force keeps the user's later edit",
          "[stages][containerd]") {
  Fixture f;
  f.dir.write(k_config, k_kubeadm);
  RuntimeStage stage(containerd_settings());
  Journal journal;
  f.containerd("2.1.0");
  StagePlan plan = stage.plan(f.ctx);
  apply_plan(f.ctx, journal, plan);
  apply_revert(f.ctx, journal, plan_revert(f.ctx, journal, stage, Force::no));
  CHECK(test::read_file(f.dir / k_config) == k_kubeadm);
  CHECK_FALSE(f.root.exists(k_dropin));

  f.containerd("2.1.0");
  apply_plan(f.ctx, journal, stage.plan(f.ctx));
  std::string edited = test::read_file(f.dir / k_config);
  edited.replace(edited.find("pause:3.9"), 9, "pause:3.10");  // the operator's own change
  f.dir.write(k_config, edited);
  CHECK_THROWS_AS(plan_revert(f.ctx, journal, stage, Force::no), RevertRefused);
  apply_revert(f.ctx, journal, plan_revert(f.ctx, journal, stage, Force::yes));
  std::string expected = k_kubeadm;
  expected.replace(expected.find("pause:3.9"), 9, "pause:3.10");
  CHECK(test::read_file(f.dir / k_config) == expected);
  CHECK_FALSE(f.root.exists(k_dropin));
}

TEST_CASE("a site's runtime template reaches the drop-in, a broken one stops the plan",
          "[stages][containerd]") {
  Fixture f;
  test::TempRoot templates;
  templates.write("/containerd/runtime.toml",
                  "options.BinaryName = \"{{runtime_path}}\"\n"
                  "privileged_without_host_devices = false\n");
  RuntimeSettings settings = containerd_settings(true);
  settings.templates_dir = templates.path();
  f.containerd("2.1.0");
  StagePlan plan = RuntimeStage(settings).plan(f.ctx);
  REQUIRE(plan.edits.size() == 2);
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("privileged_without_host_devices = false\n"));

  templates.write("/containerd/runtime.toml", "options.BinaryName = \"/usr/bin/runc\"\n");
  f.containerd("2.1.0");
  const std::string where = (templates / "/containerd/runtime.toml").string() + ":1:";
  CHECK_THROWS_WITH(RuntimeStage(settings).plan(f.ctx), Catch::StartsWith(where));
  settings.drop_in = false;  // in place, too
  CHECK_THROWS_WITH(RuntimeStage(settings).plan(f.ctx), Catch::StartsWith(where));
}

TEST_CASE("containerd: a default runtime that runs the NVIDIA runtime already leaves nothing to do",
          "[stages][containerd]") {
  const std::string aks = test::read_file(
      test::shared_fixture("runtime-configs/containerd--aks-agentbaker-gpu-rendered.toml"));
  const std::string note =
      "the default runtime 'nvidia-container-runtime' already runs "
      "/usr/bin/nvidia-container-runtime; nothing added";
  for (const auto& [version, drop_in] : std::vector<std::pair<std::string, std::optional<bool>>>{
           {"1.7.24", std::nullopt}, {"2.1.0", std::nullopt}, {"2.1.0", true}}) {
    INFO(version << (drop_in ? " --drop-in" : ""));
    Fixture f;
    f.dir.write(k_config, aks);
    f.containerd(version);
    StagePlan plan = RuntimeStage(containerd_settings(drop_in)).plan(f.ctx);
    CHECK(plan.empty());
    CHECK(plan.edits.empty());
    CHECK(plan.notes == std::vector<std::string>{note});
    CHECK_FALSE(plan.undo.contains("containerd"));
  }
}

TEST_CASE("containerd 1.7: a config.toml without runtimes keeps runc, revert --force takes it out",
          "[stages][containerd]") {
  Fixture f;
  const std::string original =
      "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n"
      "  sandbox_image = \"registry.k8s.io/pause:3.9\"\n";
  f.dir.write(k_config, original);
  RuntimeStage stage(containerd_settings());
  Journal journal;
  f.containerd("1.7.24");
  StagePlan plan = stage.plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK_THAT(*plan.edits[0].after,
             Catch::Contains("runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n"));
  CHECK(plan.undo["containerd"]["runc_added"] == true);
  apply_plan(f.ctx, journal, plan);
  std::string edited = test::read_file(f.dir / k_config);
  edited.replace(edited.find("pause:3.9"), 9, "pause:3.10");  // the operator's own change
  f.dir.write(k_config, edited);
  apply_revert(f.ctx, journal, plan_revert(f.ctx, journal, stage, Force::yes));
  std::string expected = original;
  expected.replace(expected.find("pause:3.9"), 9, "pause:3.10");
  CHECK(test::read_file(f.dir / k_config) == expected);
}

TEST_CASE("containerd: a config of only comments on 2.x gets version 3, like an empty one", "[containerd]") {
  test::TempRoot dir;
  host::HostRoot root(dir.path());
  test::RecordingRunner runner;
  StageContext ctx{root, runner};
  dir.write("/etc/containerd/config.toml", "# managed by hand\n\n# nothing here yet\n");
  host::CommandResult version;
  version.out = "containerd github.com/containerd/containerd v2.0.5 abc\n";
  runner.respond("containerd", version);
  RuntimeSettings settings;
  settings.runtime = RuntimeKind::containerd;
  auto plan = RuntimeStage(settings).plan(ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK_THAT(*plan.edits[0].after, Catch::StartsWith("# managed by hand\n\n# nothing here yet\n"));
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("version = 3"));
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("io.containerd.cri.v1.runtime"));
}

TEST_CASE("containerd: --drop-in with --config naming the drop-in, spelled oddly, is a usage error", "[containerd]") {
  test::TempRoot dir;
  host::HostRoot root(dir.path());
  test::RecordingRunner runner;
  StageContext ctx{root, runner};
  RuntimeSettings settings;
  settings.runtime = RuntimeKind::containerd;
  settings.drop_in = true;
  settings.config_path = "/etc/containerd/conf.d/./99-nvidia.toml";
  CHECK_THROWS_AS(RuntimeStage(settings).plan(ctx), UsageError);
}
