#include <catch2/catch.hpp>
#include <filesystem>

#include "config/toml_document.hpp"
#include "error.hpp"
#include "stages/engine.hpp"
#include "stages/runtime_stage.hpp"
#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::stages;

namespace {

const std::string k_config = "/etc/rancher/k3s/config.yaml";
const std::string k_containerd = "/var/lib/rancher/k3s/agent/etc/containerd";
const std::string k_dropin_v3 = k_containerd + "/config-v3.toml.d/99-nvidia.toml";
const std::string k_runtime = "/usr/bin/nvidia-container-runtime";

struct Fixture {
  test::TempRoot dir;
  host::HostRoot root{dir.path()};
  test::RecordingRunner runner;
  StageContext ctx{root, runner};

  Fixture() { install("/usr/local/bin/k3s"); }

  void install(const std::string& program) const {
    dir.write(program, "#!/bin/sh\n");
    std::filesystem::permissions(dir / program, std::filesystem::perms::owner_all);
  }
  // A generated containerd config from tests/fixtures/k3s, as k3s would have left it.
  void generated(const std::string& fixture,
                 const std::string& at = k_containerd + "/config.toml") const {
    dir.write(at, test::read_file(test::test_fixture("k3s/" + fixture)));
  }
  std::string read(const std::string& path) const { return test::read_file(dir / path); }
};

RuntimeSettings k3s_settings() {
  RuntimeSettings settings;
  settings.runtime = RuntimeKind::k3s;
  return settings;
}

const std::string k_user_config = "# the operator's\ntoken: abc\ndisable:\n  - traefik\n";

bool has_note(const StagePlan& plan, const std::string& text) {
  for (const auto& note : plan.notes)
    if (note.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("k3s or rke2 installed is configured as k3s, k3s first when both are", "[k3s]") {
  test::TempRoot dir;
  host::HostRoot root(dir.path());
  dir.write("/usr/bin/rke2", "#!/bin/sh\n");
  std::filesystem::permissions(dir / "/usr/bin/rke2", std::filesystem::perms::owner_all);
  dir.write("/usr/bin/containerd", "#!/bin/sh\n");
  std::filesystem::permissions(dir / "/usr/bin/containerd", std::filesystem::perms::owner_all);
  CHECK(choose_runtime(root, std::nullopt) == RuntimeKind::k3s);
  test::RecordingRunner runner;
  StagePlan plan = RuntimeStage({}).plan(StageContext{root, runner});
  REQUIRE_FALSE(plan.edits.empty());
  CHECK(plan.edits[0].path == "/etc/rancher/rke2/config.yaml");
  CHECK(plan.undo["k3s"]["config"] == "/etc/rancher/rke2/config.yaml");
  CHECK(has_note(plan, "rke2-server or rke2-agent next starts"));

  dir.write("/usr/local/bin/k3s", "#!/bin/sh\n");
  std::filesystem::permissions(dir / "/usr/local/bin/k3s", std::filesystem::perms::owner_all);
  CHECK(RuntimeStage({}).plan(StageContext{root, runner}).edits.at(0).path == k_config);
}

TEST_CASE("k3s: plan sets default-runtime and relies on k3s finding the runtime itself", "[k3s]") {
  Fixture f;
  f.dir.write(k_config, k_user_config);
  f.install(k_runtime);
  RuntimeStage stage(k3s_settings());
  CHECK(stage.inspect(f.ctx, nullptr).state == StageState::pending);
  StagePlan plan = stage.plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == k_config);
  CHECK_THAT(*plan.edits[0].after,
             Catch::StartsWith(k_user_config) && Catch::EndsWith("\ndefault-runtime: nvidia\n"));
  CHECK(has_note(plan,
                 "k3s adds runtime nvidia (" + k_runtime + ") to its containerd config by itself"));
  CHECK(has_note(plan, "--root is not /"));
  CHECK(plan.commands.empty());
  CHECK(plan.undo["k3s"]["previous_default"].is_null());
  CHECK(plan.undo["k3s"]["dropin"].is_null());
  CHECK(f.runner.commands().empty());
}

TEST_CASE("k3s: an absent config.yaml is created 0600 with just our lines", "[k3s]") {
  Fixture f;
  StagePlan plan = RuntimeStage(k3s_settings()).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK_FALSE(plan.edits[0].before);
  CHECK(plan.edits[0].mode_if_new == 0600);
  CHECK_THAT(*plan.edits[0].after,
             Catch::StartsWith("# ") && Catch::EndsWith("\ndefault-runtime: nvidia\n"));
  // No toolkit yet: k3s will not find the runtime, and the plan says so.
  CHECK(has_note(plan, "install the NVIDIA container toolkit first"));
}

TEST_CASE("k3s: runtimes k3s cannot find by itself are noted", "[k3s]") {
  Fixture f;
  f.generated("generated-v2-no-imports.toml");
  RuntimeSettings settings = k3s_settings();
  settings.runtime_name = "gpu";
  CHECK(has_note(RuntimeStage(settings).plan(f.ctx),
                 "runtime gpu (" + k_runtime + ") must come from a config.toml.tmpl"));
  // The same binary name earlier on PATH is the one k3s runs.
  f.install("/usr/local/bin/nvidia-container-runtime");
  f.install(k_runtime);
  CHECK(has_note(RuntimeStage(k3s_settings()).plan(f.ctx),
                 "will run /usr/local/bin/nvidia-container-runtime"));
}

TEST_CASE("k3s: a generated v3 config that imports config-v3.toml.d gets our drop-in", "[k3s]") {
  Fixture f;
  f.generated("generated-v3-imports.toml");
  f.dir.write(k_config, k_user_config);
  StagePlan plan = RuntimeStage(k3s_settings()).plan(f.ctx);
  REQUIRE(plan.edits.size() == 2);
  CHECK(plan.edits[1].path == k_dropin_v3);
  CHECK_FALSE(plan.edits[1].before);
  const std::string& dropin = *plan.edits[1].after;
  auto table = config::parse_toml(dropin, k_dropin_v3);
  CHECK(table["version"].value<int64_t>() == 3);
  auto runtime =
      table["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["nvidia"];
  CHECK(runtime["runtime_type"].value<std::string>() == "io.containerd.runc.v2");
  CHECK(runtime["options"]["BinaryName"].value<std::string>() == k_runtime);
  CHECK(runtime["options"]["SystemdCgroup"].value<bool>() == true);  // runc's, as k3s set it
  // The default is config.yaml's to set, not the drop-in's.
  CHECK(dropin.find("default_runtime_name") == std::string::npos);
  CHECK(plan.undo["k3s"]["dropin"] == k_dropin_v3);
  CHECK_FALSE(has_note(plan, "by itself"));
}

TEST_CASE("k3s: the drop-in carries k3s's runc, and a template with another SystemdCgroup is refused",
          "[k3s]") {
  Fixture f;
  f.generated("generated-v3-imports.toml");
  StagePlan plan = RuntimeStage(k3s_settings()).plan(f.ctx);
  REQUIRE(plan.edits.size() == 2);
  auto table = config::parse_toml(*plan.edits[1].after, k_dropin_v3);
  auto runc = table["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["runc"];
  CHECK(runc["runtime_type"].value<std::string>() == "io.containerd.runc.v2");
  CHECK(runc["options"]["SystemdCgroup"].value<bool>() == true);

  test::TempRoot site;
  site.write("/containerd/runtime.toml",
             "options.BinaryName = \"{{runtime_path}}\"\noptions.SystemdCgroup = false\n");
  RuntimeSettings settings = k3s_settings();
  settings.templates_dir = site.path();
  CHECK_THROWS_WITH(RuntimeStage(settings).plan(f.ctx),
                    Catch::Contains("must follow the kubelet's cgroup driver"));
}

TEST_CASE("rke2: a v2 generated config that imports config.toml.d gets a v2 drop-in", "[k3s]") {
  test::TempRoot dir;
  host::HostRoot root(dir.path());
  test::RecordingRunner runner;
  dir.write("/usr/local/bin/rke2", "#!/bin/sh\n");
  std::filesystem::permissions(dir / "/usr/local/bin/rke2", std::filesystem::perms::owner_all);
  std::string generated = test::read_file(test::test_fixture("k3s/generated-v2-imports.toml"));
  for (size_t at; (at = generated.find("/k3s/")) != std::string::npos;)
    generated.replace(at, 5, "/rke2/");
  const std::string dir_rke2 = "/var/lib/rancher/rke2/agent/etc/containerd";
  dir.write(dir_rke2 + "/config.toml", generated);
  StagePlan plan = RuntimeStage(k3s_settings()).plan(StageContext{root, runner});
  REQUIRE(plan.edits.size() == 2);
  CHECK(plan.edits[0].path == "/etc/rancher/rke2/config.yaml");
  CHECK(plan.edits[1].path == dir_rke2 + "/config.toml.d/99-nvidia.toml");
  auto table = config::parse_toml(*plan.edits[1].after, "dropin");
  auto options =
      table["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["nvidia"]["options"];
  CHECK(options["BinaryName"].value<std::string>() == k_runtime);
  CHECK(options["SystemdCgroup"].value<bool>() == false);
}

TEST_CASE("k3s: no drop-in when k3s already runs the same binary, one when it runs another",
          "[k3s]") {
  Fixture f;
  std::string generated = test::read_file(test::test_fixture("k3s/generated-v3-imports.toml"));
  std::string detected =
      "\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia]\n"
      "  runtime_type = \"io.containerd.runc.v2\"\n"
      "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia.options]\n"
      "  BinaryName = \"@BINARY@\"\n";
  f.dir.write(k_containerd + "/config.toml",
              generated + detected.replace(detected.find("@BINARY@"), 8, k_runtime));
  StagePlan plan = RuntimeStage(k3s_settings()).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == k_config);
  CHECK(plan.undo["k3s"]["dropin"] == k_dropin_v3);

  RuntimeSettings other = k3s_settings();
  other.runtime_path = "/usr/local/nvidia/toolkit/nvidia-container-runtime";
  CHECK(RuntimeStage(other).plan(f.ctx).edits.size() == 2);
}

TEST_CASE("k3s: --no-set-as-default leaves config.yaml alone, still adds the runtime", "[k3s]") {
  Fixture f;
  f.generated("generated-v3-imports.toml");
  f.dir.write(k_config, k_user_config);
  RuntimeSettings settings = k3s_settings();
  settings.set_as_default = false;
  StagePlan plan = RuntimeStage(settings).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == k_dropin_v3);
  f.dir.write(k_containerd + "/config.toml",
              test::read_file(test::test_fixture("k3s/generated-v2-no-imports.toml")));
  CHECK(RuntimeStage(settings).plan(f.ctx).empty());
}

TEST_CASE("k3s: a user's config.toml.tmpl is left alone, a later default-runtime is noted",
          "[k3s]") {
  Fixture f;
  f.dir.write(k_config, k_user_config);
  const std::string tmpl = k_containerd + "/config.toml.tmpl";
  auto shared =
      test::shared_fixture("runtime-configs/k3stmpl--v-wan-k3d-gpu-nvidia-default.toml.tmpl");
  f.dir.write(tmpl, test::read_file(shared));
  f.dir.write(k_config + ".d/50-site.yaml", "default-runtime: crun\n");
  f.dir.write(k_config + ".d/10-same.yml", "default-runtime: nvidia\n");
  f.dir.write(k_config + ".d/notes.txt", "default-runtime: ignored\n");
  StagePlan plan = RuntimeStage(k3s_settings()).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(has_note(plan, tmpl + " replaces k3s's containerd config template and is left alone"));
  CHECK(has_note(plan, k_config + ".d/50-site.yaml is read after " + k_config +
                           " and sets default-runtime: crun"));
  CHECK_FALSE(has_note(plan, "10-same"));
  CHECK_FALSE(has_note(plan, "notes.txt"));
  CHECK(f.read(tmpl) == test::read_file(shared));
}

TEST_CASE("k3s: apply, applied, nothing to do again, drift, revert to the original bytes",
          "[k3s]") {
  Fixture f;
  const std::string original =
      test::read_file(test::test_fixture("k3s/config-crlf-runc-default-noeol.yaml"));
  f.dir.write(k_config, original);
  f.generated("generated-v3-imports.toml");
  RuntimeStage stage(k3s_settings());
  Journal journal;
  StagePlan plan = stage.plan(f.ctx);
  CHECK(plan.undo["k3s"]["previous_default"] == "runc");
  apply_plan(f.ctx, journal, plan);
  std::string configured = f.read(k_config);
  CHECK(configured == std::string(original).replace(original.find("runc"), 4, "nvidia"));
  CHECK(stage.plan(f.ctx).empty());

  RuntimeStage status_stage({});  // `status` with no flags judges the journal's record
  Inspection judged = status_stage.inspect(f.ctx, journal.find("runtime"));
  CHECK(judged.state == StageState::applied);
  CHECK_THAT(judged.detail, Catch::StartsWith("k3s (" + k_config + ")"));
  f.dir.write(k_config, original);  // someone put runc back
  CHECK(status_stage.inspect(f.ctx, journal.find("runtime")).state == StageState::drifted);
  f.dir.write(k_config, configured);

  apply_revert(f.ctx, journal, plan_revert(f.ctx, journal, stage, Force::no));
  CHECK(f.read(k_config) == original);
  CHECK_FALSE(f.root.exists(k_dropin_v3));
  CHECK(f.runner.commands().empty());
}

TEST_CASE("k3s: revert --force keeps the operator's later edits and removes our drop-in", "[k3s]") {
  Fixture f;
  f.dir.write(k_config, k_user_config);
  f.generated("generated-v3-imports.toml");
  RuntimeStage stage(k3s_settings());
  Journal journal;
  apply_plan(f.ctx, journal, stage.plan(f.ctx));
  f.dir.write(k_config, f.read(k_config) + "node-label:\n  - gpu=true\n");
  f.dir.write(k_dropin_v3, f.read(k_dropin_v3) + "# touched\n");
  CHECK_THROWS_AS(plan_revert(f.ctx, journal, stage, Force::no), RevertRefused);
  apply_revert(f.ctx, journal, plan_revert(f.ctx, journal, stage, Force::yes));
  CHECK(f.read(k_config) == k_user_config + "node-label:\n  - gpu=true\n");
  CHECK_FALSE(f.root.exists(k_dropin_v3));
}

TEST_CASE("k3s: revert --force of a config.yaml we created removes it", "[k3s]") {
  Fixture f;
  RuntimeStage stage(k3s_settings());
  StagePlan plan = stage.plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK_FALSE(stage.remove_own_changes(k_config, *plan.edits[0].after, plan.undo));
  CHECK(stage.remove_own_changes(k_config, "a: 1\n" + *plan.edits[0].after, plan.undo) == "a: 1\n");
}

TEST_CASE("k3s: a malformed config.yaml is a ConfigError and nothing is planned", "[k3s]") {
  Fixture f;
  f.generated("generated-v3-imports.toml");
  f.dir.write(k_config, "token: abc\ndisable:\n\t- traefik\n");
  RuntimeStage stage(k3s_settings());
  CHECK_THROWS_AS(stage.plan(f.ctx), ConfigError);
  CHECK_THROWS_WITH(stage.plan(f.ctx), Catch::StartsWith(k_config + ":3:1:"));
  f.dir.write(k_config, "token: abc\n");
  f.dir.write(k_config + ".d/20-x.yaml", "- not a mapping\n");
  CHECK_THROWS_WITH(stage.plan(f.ctx), Catch::StartsWith(k_config + ".d/20-x.yaml:1:1:"));
  CHECK_FALSE(f.root.exists(k_dropin_v3));
}

TEST_CASE("k3s: the active one of k3s and k3s-agent is restarted", "[k3s]") {
  test::TempRoot dir;  // a real path on "/", read only: the plan writes nothing
  dir.write("/config.yaml", "token: abc\n");
  host::HostRoot system_root("/");
  test::RecordingRunner runner;
  host::CommandResult inactive;
  inactive.exit_status = 3;
  runner.respond("systemctl", inactive);  // k3s: inactive; k3s-agent: active
  RuntimeSettings settings = k3s_settings();
  settings.config_path = (dir / "/config.yaml").string();
  StagePlan plan = RuntimeStage(settings).plan(StageContext{system_root, runner});
  CHECK(runner.argvs() ==
        std::vector<std::vector<std::string>>{{"systemctl", "is-active", "--quiet", "k3s"},
                                              {"systemctl", "is-active", "--quiet", "k3s-agent"}});
  REQUIRE(plan.commands.size() == 1);
  CHECK(plan.commands[0].command.argv() ==
        std::vector<std::string>{"systemctl", "try-restart", "k3s-agent"});
  CHECK(test::read_file(dir / "/config.yaml") == "token: abc\n");
}
