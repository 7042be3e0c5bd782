#include "stages/runtime_stage.hpp"

#include "stages/engine.hpp"

#include <catch2/catch.hpp>

#include "error.hpp"
#include "stages/engine.hpp"
#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::stages;

namespace {

struct Fixture {
  test::TempRoot dir;
  host::HostRoot root{dir.path()};
  test::RecordingRunner runner;
  StageContext ctx{root, runner};
  StageRecord applied;  // a journal record, for inspections of an applied stage

  void install(const std::string& program) {
    dir.write("/usr/bin/" + program, "#!/bin/sh\n");
    std::filesystem::permissions(dir / ("/usr/bin/" + program), std::filesystem::perms::owner_all);
  }
};

RuntimeSettings for_runtime(RuntimeKind kind) {
  RuntimeSettings settings;
  settings.runtime = kind;
  return settings;
}

}  // namespace

TEST_CASE("the installed runtime is chosen when none is named", "[stages]") {
  Fixture f;
  CHECK_THROWS_WITH(choose_runtime(f.root, std::nullopt), Catch::Contains("--runtime"));
  CHECK(RuntimeStage({}).inspect(f.ctx, nullptr).state == StageState::not_applicable);
  f.install("dockerd");
  CHECK(choose_runtime(f.root, std::nullopt) == RuntimeKind::docker);
  // Docker's own containerd does not make containerd the node's runtime...
  f.install("containerd");
  CHECK(choose_runtime(f.root, std::nullopt) == RuntimeKind::docker);
  // ...a kubelet talking to it does.
  f.install("kubelet");
  CHECK(choose_runtime(f.root, std::nullopt) == RuntimeKind::containerd);
  CHECK(choose_runtime(f.root, RuntimeKind::docker) == RuntimeKind::docker);
}

TEST_CASE("docker: plan edits daemon.json and notes that a root is not restarted", "[stages]") {
  Fixture f;
  f.dir.write("/etc/docker/daemon.json", "{\n  \"log-driver\": \"journald\"\n}\n");
  RuntimeStage stage(for_runtime(RuntimeKind::docker));
  CHECK(stage.inspect(f.ctx, nullptr).state == StageState::pending);

  StagePlan plan = stage.plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == "/etc/docker/daemon.json");
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("\"default-runtime\": \"nvidia\""));
  CHECK(plan.commands.empty());
  REQUIRE(plan.notes.size() == 1);
  CHECK_THAT(plan.notes[0], Catch::Contains("next starts"));
  CHECK(plan.undo["docker"]["previous_default"].is_null());
  CHECK(f.runner.commands().empty());  // a root other than / is never asked about services
}

TEST_CASE("docker: a configured file plans nothing and is applied", "[stages]") {
  Fixture f;
  RuntimeStage stage(for_runtime(RuntimeKind::docker));
  f.dir.write("/etc/docker/daemon.json", *stage.plan(f.ctx).edits.at(0).after);
  CHECK(stage.plan(f.ctx).empty());
  CHECK(stage.inspect(f.ctx, &f.applied).state == StageState::applied);
}

TEST_CASE("docker: a configured file that lost our runtime is drifted", "[stages]") {
  Fixture f;
  f.dir.write("/etc/docker/daemon.json", "{}\n");
  RuntimeStage stage(for_runtime(RuntimeKind::docker));
  CHECK(stage.inspect(f.ctx, &f.applied).state == StageState::drifted);
}

namespace {

// What `containerd --version` prints for `version` ("v2.1.3").
host::CommandResult containerd_version(const std::string& version) {
  host::CommandResult result;
  result.out = "containerd github.com/containerd/containerd " + version + " abc\n";
  return result;
}

}  // namespace

TEST_CASE("containerd: on 2.1 a missing config gets version 3 and a drop-in it imports", "[stages]") {
  Fixture f;
  f.runner.respond("containerd", containerd_version("v2.1.3"));
  RuntimeStage stage(for_runtime(RuntimeKind::containerd));
  StagePlan plan = stage.plan(f.ctx);
  REQUIRE(plan.edits.size() == 2);
  CHECK(plan.edits[0].path == "/etc/containerd/conf.d/99-nvidia.toml");  // written before its import
  CHECK_FALSE(plan.edits[0].before);
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("version = 3"));
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("default_runtime_name = \"nvidia\""));
  CHECK(plan.edits[1].path == "/etc/containerd/config.toml");
  CHECK_THAT(*plan.edits[1].after, Catch::Contains("/etc/containerd/conf.d/99-nvidia.toml"));
  CHECK(f.runner.argvs() == std::vector<std::vector<std::string>>{{"containerd", "--version"}});
}

TEST_CASE("containerd: before 2.1 an existing config is edited in place", "[stages]") {
  Fixture f;
  f.dir.write("/etc/containerd/config.toml", "version = 2\n# ours to keep\n");
  f.runner.respond("containerd", containerd_version("v1.7.24"));
  RuntimeStage stage(for_runtime(RuntimeKind::containerd));
  StagePlan plan = stage.plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == "/etc/containerd/config.toml");
  CHECK_THAT(*plan.edits[0].after, Catch::StartsWith("version = 2\n# ours to keep\n"));
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("default_runtime_name = \"nvidia\""));
  CHECK(f.runner.argvs() == std::vector<std::vector<std::string>>{{"containerd", "--version"}});
}

TEST_CASE("a malformed config is a ConfigError with its position, and nothing is planned", "[stages]") {
  Fixture f;
  f.dir.write("/etc/containerd/config.toml", "version = 2\n[plugins\n");
  RuntimeStage stage(for_runtime(RuntimeKind::containerd));
  CHECK_THROWS_AS(stage.plan(f.ctx), ConfigError);
  CHECK_THROWS_WITH(stage.plan(f.ctx), Catch::StartsWith("/etc/containerd/config.toml:2:"));
}

TEST_CASE("revert --force takes out only our runtime from a file edited since", "[stages]") {
  Fixture f;
  const std::string original = "{\n  \"debug\": true\n}\n";
  f.dir.write("/etc/docker/daemon.json", original);
  RuntimeStage stage(for_runtime(RuntimeKind::docker));
  StagePlan plan = stage.plan(f.ctx);
  std::string edited = *plan.edits[0].after;
  edited.replace(edited.find("true"), 4, "false");  // an operator's later change
  auto kept = stage.remove_own_changes("/etc/docker/daemon.json", edited, plan.undo);
  REQUIRE(kept);
  CHECK(*kept == "{\n  \"debug\": false\n}\n");
  CHECK_FALSE(stage.remove_own_changes("/etc/other.conf", edited, plan.undo));
}

TEST_CASE("containerd: Debian's version string and a root without containerd give version 2", "[stages]") {
  Fixture f;
  host::CommandResult debian;
  debian.out = "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3\n";
  f.runner.respond("containerd", debian);
  RuntimeStage stage(for_runtime(RuntimeKind::containerd));
  CHECK_THAT(*stage.plan(f.ctx).edits.at(0).after, Catch::Contains("version = 2"));

  // A runner that cannot find the program at all (ProcessRunner in an empty root).
  host::ProcessRunner real(f.root, null_log_sink());
  StageContext bare{f.root, real};
  CHECK_THAT(*stage.plan(bare).edits.at(0).after, Catch::Contains("version = 2"));
}

namespace {

const std::string k_crio_dropin = "/etc/crio/crio.conf.d/99-nvidia.conf";

// A crio.conf as CRI-O packages ship it, trimmed: crun is the default, with a conmon and a
// state directory of its own that our runtime must share.
const std::string k_crio_conf =
    "# The user's own, with comments.\n"
    "[crio.runtime]\n"
    "default_runtime = \"crun\"\n"
    "\n"
    "[crio.runtime.runtimes.crun]\n"
    "runtime_path = \"/usr/libexec/crio/crun\"\n"
    "runtime_root = \"/run/crun\"\n"
    "monitor_path = \"/usr/libexec/crio/conmon\"\n";

}  // namespace

TEST_CASE("crio: plan creates the drop-in and copies the default runtime's options", "[stages]") {
  Fixture f;
  f.dir.write("/etc/crio/crio.conf", k_crio_conf);
  RuntimeStage stage(for_runtime(RuntimeKind::crio));
  CHECK(stage.inspect(f.ctx, nullptr).state == StageState::pending);

  StagePlan plan = stage.plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].path == k_crio_dropin);
  CHECK_FALSE(plan.edits[0].before);
  CHECK_THAT(*plan.edits[0].after,
             Catch::Contains("[crio.runtime]\ndefault_runtime = \"nvidia\"\n"));
  CHECK_THAT(*plan.edits[0].after, Catch::EndsWith("runtime_type = \"oci\"\n"
                                                   "monitor_path = \"/usr/libexec/crio/conmon\"\n"
                                                   "runtime_root = \"/run/crun\"\n"));
  CHECK(plan.undo["crio"]["previous_default"] == "crun");
  CHECK(plan.commands.empty());  // a root other than / is never restarted
}

TEST_CASE("crio: once applied, a second plan is empty and crio.conf is untouched", "[stages]") {
  Fixture f;
  f.dir.write("/etc/crio/crio.conf", k_crio_conf);
  f.dir.write("/etc/crio/crio.conf.d/10-crio.conf", "[crio.image]\npause_image = \"x\"\n");
  RuntimeStage stage(for_runtime(RuntimeKind::crio));
  Journal journal;
  apply_plan(f.ctx, journal, stage.plan(f.ctx));
  CHECK(test::read_file(f.dir / "/etc/crio/crio.conf") == k_crio_conf);
  CHECK(test::read_file(f.dir / "/etc/crio/crio.conf.d/10-crio.conf") ==
        "[crio.image]\npause_image = \"x\"\n");
  // Our own drop-in (default "nvidia") is not taken for the user's: the options stay crun's.
  CHECK(stage.plan(f.ctx).empty());
  CHECK(stage.inspect(f.ctx, &f.applied).state == StageState::applied);
}

TEST_CASE("crio: a drop-in of ours with other bytes is drift and is rewritten whole", "[stages]") {
  Fixture f;
  // Ours by its first line (the marker every rendering starts with).
  f.dir.write(k_crio_dropin, "# Written by gpu-node-setup\n[crio.runtime.runtimes.nvidia]\nruntime_path = \"/old\"\n");
  RuntimeStage stage(for_runtime(RuntimeKind::crio));
  CHECK(stage.inspect(f.ctx, &f.applied).state == StageState::drifted);
  StagePlan plan = stage.plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK(plan.edits[0].before);
  CHECK_THAT(*plan.edits[0].after,
             Catch::Contains("runtime_path = \"/usr/bin/nvidia-container-runtime\""));
}

TEST_CASE("crio: not the default leaves default_runtime to the user", "[stages]") {
  Fixture f;
  RuntimeSettings settings = for_runtime(RuntimeKind::crio);
  settings.set_as_default = false;
  StagePlan plan = RuntimeStage(settings).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK_THAT(*plan.edits[0].after, !Catch::Contains("default_runtime"));
  CHECK(plan.undo["crio"]["previous_default"].is_null());
}

TEST_CASE("crio: drop-ins are layered in lexical order, and a later default is noted", "[stages]") {
  Fixture f;
  f.dir.write("/etc/crio/crio.conf", k_crio_conf);
  f.dir.write("/etc/crio/crio.conf.d/20-runc.conf",
              "[crio.runtime]\ndefault_runtime = \"runc\"\n"
              "[crio.runtime.runtimes.runc]\nruntime_root = \"/run/runc\"\n");
  f.dir.write("/etc/crio/crio.conf.d/zz-site.conf", "[crio.runtime]\ndefault_runtime = \"runc\"\n");
  StagePlan plan = RuntimeStage(for_runtime(RuntimeKind::crio)).plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK_THAT(*plan.edits[0].after, Catch::EndsWith("runtime_root = \"/run/runc\"\n"));
  REQUIRE(plan.notes.size() == 2);
  CHECK_THAT(plan.notes[0], Catch::StartsWith("/etc/crio/crio.conf.d/zz-site.conf is read after"));
}

TEST_CASE("crio: a malformed crio.conf or drop-in is a ConfigError with its position", "[stages]") {
  Fixture f;
  RuntimeStage stage(for_runtime(RuntimeKind::crio));
  f.dir.write("/etc/crio/crio.conf", "[crio.runtime]\ndefault_runtime = crun\n");
  CHECK_THROWS_AS(stage.plan(f.ctx), ConfigError);
  CHECK_THROWS_WITH(stage.plan(f.ctx), Catch::StartsWith("/etc/crio/crio.conf:2:"));
  f.dir.write("/etc/crio/crio.conf", k_crio_conf);
  f.dir.write("/etc/crio/crio.conf.d/10-user.conf", "[crio.runtime\n");
  CHECK_THROWS_WITH(stage.plan(f.ctx), Catch::StartsWith("/etc/crio/crio.conf.d/10-user.conf:1:"));
  CHECK_FALSE(f.root.exists(k_crio_dropin));
}

TEST_CASE("crio: revert through the engine removes the drop-in", "[stages]") {
  Fixture f;
  f.dir.write("/etc/crio/crio.conf", k_crio_conf);
  RuntimeStage stage(for_runtime(RuntimeKind::crio));
  Journal journal;
  StagePlan plan = stage.plan(f.ctx);
  apply_plan(f.ctx, journal, plan);
  REQUIRE(f.root.exists(k_crio_dropin));
  // The file is wholly ours: revert --force restores it rather than editing it.
  CHECK_FALSE(stage.remove_own_changes(k_crio_dropin, "edited\n", plan.undo));

  apply_revert(f.ctx, journal, plan_revert(f.ctx, journal, stage, Force::no));
  CHECK_FALSE(f.root.exists(k_crio_dropin));
  CHECK(test::read_file(f.dir / "/etc/crio/crio.conf") == k_crio_conf);
}

TEST_CASE("crio: its main config is never the file we write", "[stages]") {
  Fixture f;
  RuntimeSettings settings = for_runtime(RuntimeKind::crio);
  settings.config_path = "/etc/crio/crio.conf";
  CHECK_THROWS_AS(RuntimeStage(settings).plan(f.ctx), UsageError);
}

TEST_CASE("status judges what the journal says was applied, not today's guess or defaults", "[stages]") {
  Fixture f;
  f.install("dockerd");
  f.install("containerd");
  f.dir.write("/etc/containerd/config.toml", "version = 2\n");  // auto-detect would pick containerd
  RuntimeSettings custom = for_runtime(RuntimeKind::docker);
  custom.runtime_path = "/usr/local/nvidia/toolkit/nvidia-container-runtime";
  Journal journal;
  apply_plan(f.ctx, journal, RuntimeStage(custom).plan(f.ctx));

  RuntimeStage status_stage({});  // `status` with no flags
  Inspection judged = status_stage.inspect(f.ctx, journal.find("runtime"));
  CHECK(judged.state == StageState::applied);
  CHECK_THAT(judged.detail, Catch::StartsWith("docker"));

  f.dir.write("/etc/docker/daemon.json", "{}\n");
  CHECK(status_stage.inspect(f.ctx, journal.find("runtime")).state == StageState::drifted);
  CHECK(f.runner.commands().empty());  // status runs nothing
}

TEST_CASE("a k3s node is judged by its config.yaml (runtime_k3s_test.cpp has the rest)", "[stages]") {
  Fixture f;
  f.dir.write("/usr/local/bin/k3s", "#!/bin/sh\n");
  std::filesystem::permissions(f.dir / "/usr/local/bin/k3s", std::filesystem::perms::owner_all);
  Inspection judged = RuntimeStage({}).inspect(f.ctx, nullptr);
  CHECK(judged.state == StageState::pending);
  CHECK_THAT(judged.detail, Catch::StartsWith("k3s (/etc/rancher/k3s/config.yaml)"));
}

namespace {

// A host without systemd: asking systemctl anything fails as ProcessRunner fails.
class NoSystemdRunner : public host::Runner {
public:
  host::CommandResult run(const host::Command& command) override {
    throw Error("program not found on PATH: " + command.program);
  }
};

}  // namespace

TEST_CASE("on a host without systemd the plan says to restart by hand, and does not fail", "[stages]") {
  test::TempRoot dir;  // a real path on "/", read only: the plan writes nothing
  dir.write("/daemon.json", "{}\n");
  host::HostRoot system_root("/");
  NoSystemdRunner runner;
  RuntimeSettings settings = for_runtime(RuntimeKind::docker);
  settings.config_path = (dir / "/daemon.json").string();
  StagePlan plan = RuntimeStage(settings).plan(StageContext{system_root, runner});
  CHECK(plan.edits.size() == 1);
  CHECK(plan.commands.empty());
  REQUIRE(plan.notes.size() == 1);
  CHECK_THAT(plan.notes[0], Catch::Contains("restart it yourself"));
  CHECK(test::read_file(dir / "/daemon.json") == "{}\n");
}
