// The CRI-O half of the runtime stage (src/stages/runtime_crio.cpp), at the path of our own
// drop-in: a file there that we did not write (the NVIDIA device plugin README's
// 99-nvidia.conf) is never overwritten. When CRI-O's merged configuration already does what
// we would, there is nothing to do; when it does not, configure is refused. A drop-in of ours,
// known by its first line, is re-rendered when the settings change.

#include <catch2/catch.hpp>
#include <string>

#include "config/crio_dropin.hpp"
#include "error.hpp"
#include "stages/engine.hpp"
#include "stages/runtime_stage.hpp"
#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::stages;

namespace {

const std::string k_dropin = "/etc/crio/crio.conf.d/99-nvidia.conf";

const std::string k_crio_conf =
    "[crio.runtime]\n"
    "default_runtime = \"crun\"\n"
    "\n"
    "[crio.runtime.runtimes.crun]\n"
    "runtime_path = \"/usr/libexec/crio/crun\"\n"
    "monitor_path = \"/usr/libexec/crio/conmon\"\n";

// The README's file, as in ../shared/fixtures/runtime-configs.
std::string readme_dropin() {
  return test::read_file(
      test::shared_fixture("runtime-configs/crio--nvidia-k8s-device-plugin-readme-99-nvidia.conf"));
}

struct Fixture {
  test::TempRoot dir;
  host::HostRoot root{dir.path()};
  test::RecordingRunner runner;
  StageContext ctx{root, runner};

  Fixture() { dir.write("/etc/crio/crio.conf", k_crio_conf); }
};

RuntimeSettings crio_settings() {
  RuntimeSettings settings;
  settings.runtime = RuntimeKind::crio;
  return settings;
}

}  // namespace

TEST_CASE("crio: the user's 99-nvidia.conf that already does it leaves nothing to do", "[stages]") {
  Fixture f;
  const std::string user = readme_dropin();
  f.dir.write(k_dropin, user);
  RuntimeStage stage(crio_settings());
  StagePlan plan = stage.plan(f.ctx);
  CHECK(plan.empty());
  REQUIRE(plan.notes.size() == 1);
  CHECK_THAT(plan.notes[0], Catch::StartsWith(k_dropin + " already configures runtime nvidia"));
  CHECK(stage.inspect(f.ctx, nullptr).state == StageState::applied);
  CHECK(test::read_file(f.dir / k_dropin) == user);
}

TEST_CASE("crio: a runtime configured in crio.conf and another drop-in names both files",
          "[stages]") {
  Fixture f;
  f.dir.write("/etc/crio/crio.conf",
              k_crio_conf + "[crio.runtime.runtimes.nvidia]\n"
                            "runtime_path = \"/usr/bin/nvidia-container-runtime\"\n");
  f.dir.write("/etc/crio/crio.conf.d/50-default.conf", "[crio.runtime]\ndefault_runtime = \"nvidia\"\n");
  StagePlan plan = RuntimeStage(crio_settings()).plan(f.ctx);
  CHECK(plan.empty());
  REQUIRE(plan.notes.size() == 1);
  CHECK_THAT(plan.notes[0], Catch::StartsWith("/etc/crio/crio.conf (and "
                                              "/etc/crio/crio.conf.d/50-default.conf for "
                                              "default_runtime) already configures"));
  CHECK_FALSE(f.root.exists(k_dropin));
}

TEST_CASE("crio: the user's 99-nvidia.conf with another runtime path is refused, untouched",
          "[stages]") {
  Fixture f;
  std::string user = readme_dropin();
  user.replace(user.find("/usr/bin/"), 9, "/usr/local/nvidia/toolkit/");
  f.dir.write(k_dropin, user);
  RuntimeStage stage(crio_settings());
  CHECK_THROWS_AS(stage.plan(f.ctx), Error);
  CHECK_THROWS_WITH(stage.plan(f.ctx),
                    Catch::StartsWith(k_dropin + " exists and was not written by gpu-node-setup") &&
                        Catch::Contains("--config /etc/crio/crio.conf.d/99-zz-nvidia.conf"));
  CHECK(test::read_file(f.dir / k_dropin) == user);
  // status reports what apply would refuse instead of failing.
  auto inspection = stage.inspect(f.ctx, nullptr);
  CHECK(inspection.state == StageState::pending);
  CHECK_THAT(inspection.detail, Catch::Contains("apply would refuse: " + k_dropin + " exists"));
}

TEST_CASE("crio: the user's 99-nvidia.conf is not enough when a later drop-in overrides it",
          "[stages]") {
  Fixture f;
  f.dir.write(k_dropin, readme_dropin());
  f.dir.write("/etc/crio/crio.conf.d/zz-site.conf", "[crio.runtime]\ndefault_runtime = \"crun\"\n");
  CHECK_THROWS_WITH(RuntimeStage(crio_settings()).plan(f.ctx),
                    Catch::StartsWith(k_dropin + " exists"));
  // Not asked to be the default, the runtime alone is already there.
  RuntimeSettings settings = crio_settings();
  settings.set_as_default = false;
  CHECK(RuntimeStage(settings).plan(f.ctx).empty());
}

TEST_CASE("crio: the user's 99-nvidia.conf without the default is refused when one is asked",
          "[stages]") {
  Fixture f;
  f.dir.write(k_dropin, "[crio.runtime.runtimes.nvidia]\n"
                        "runtime_path = \"/usr/bin/nvidia-container-runtime\"\n");
  CHECK_THROWS_AS(RuntimeStage(crio_settings()).plan(f.ctx), Error);
}

TEST_CASE("crio: a drop-in of ours is re-rendered when the runtime path changes", "[stages]") {
  Fixture f;
  Journal journal;
  apply_plan(f.ctx, journal, RuntimeStage(crio_settings()).plan(f.ctx));
  const std::string first = test::read_file(f.dir / k_dropin);
  CHECK(config::is_our_crio_dropin(first));

  RuntimeSettings moved = crio_settings();
  moved.runtime_path = "/usr/local/nvidia/toolkit/nvidia-container-runtime";
  StagePlan plan = RuntimeStage(moved).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].before == first);
  CHECK_THAT(*plan.edits[0].after,
             Catch::Contains("runtime_path = \"/usr/local/nvidia/toolkit/nvidia-container-runtime\""));
  // Ours is left out of the merge: the options are still crun's, not our old drop-in's.
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("monitor_path = \"/usr/libexec/crio/conmon\""));
  CHECK(plan.undo["crio"]["previous_default"] == "crun");
}

TEST_CASE("crio: an edited drop-in of ours that no longer parses is still rewritten", "[stages]") {
  Fixture f;
  f.dir.write(k_dropin, std::string(config::k_crio_dropin_marker) + "\n[crio.runtime\n");
  StagePlan plan = RuntimeStage(crio_settings()).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(config::is_our_crio_dropin(*plan.edits[0].after));
}

TEST_CASE("crio: a site template without the marker still renders a drop-in we know as ours",
          "[stages]") {
  Fixture f;
  test::TempRoot site;
  site.write("/crio/99-nvidia.conf", "[crio.runtime.runtimes.{{runtime_name}}]\n"
                                     "runtime_path = \"{{runtime_path}}\"\n"
                                     "{{#set_as_default}}\n[crio.runtime]\n"
                                     "default_runtime = \"{{runtime_name}}\"\n{{/set_as_default}}\n");
  RuntimeSettings settings = crio_settings();
  settings.templates_dir = site.path();
  RuntimeStage stage(settings);
  Journal journal;
  apply_plan(f.ctx, journal, stage.plan(f.ctx));
  CHECK(config::is_our_crio_dropin(test::read_file(f.dir / k_dropin)));
  CHECK(stage.plan(f.ctx).empty());
}

TEST_CASE("crio: the suggested --config writes beside the user's file and is read after it", "[stages]") {
  Fixture f;
  std::string user = readme_dropin();
  user.replace(user.find("/usr/bin/"), 9, "/usr/local/nvidia/toolkit/");
  f.dir.write(k_dropin, user);
  RuntimeSettings settings = crio_settings();
  settings.config_path = "/etc/crio/crio.conf.d/99-zz-nvidia.conf";
  StagePlan plan = RuntimeStage(settings).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == *settings.config_path);
  // 99-zz-nvidia.conf sorts after the user's 99-nvidia.conf: ours wins, nothing overrides it.
  for (const auto& note : plan.notes) CHECK_THAT(note, !Catch::Contains("is read after"));
  CHECK(test::read_file(f.dir / k_dropin) == user);
}
