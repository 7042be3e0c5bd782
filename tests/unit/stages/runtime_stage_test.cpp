#include "stages/runtime_stage.hpp"

#include <catch2/catch.hpp>

#include "error.hpp"
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
  CHECK(RuntimeStage({}).inspect(f.ctx, false).state == StageState::not_applicable);
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
  CHECK(stage.inspect(f.ctx, false).state == StageState::pending);

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
  CHECK(stage.inspect(f.ctx, true).state == StageState::applied);
}

TEST_CASE("docker: a configured file that lost our runtime is drifted", "[stages]") {
  Fixture f;
  f.dir.write("/etc/docker/daemon.json", "{}\n");
  RuntimeStage stage(for_runtime(RuntimeKind::docker));
  CHECK(stage.inspect(f.ctx, true).state == StageState::drifted);
}

TEST_CASE("containerd: a missing config gets the installed containerd's version", "[stages]") {
  Fixture f;
  host::CommandResult version;
  version.out = "containerd github.com/containerd/containerd v2.1.3 abc\n";
  f.runner.respond("containerd", version);
  RuntimeStage stage(for_runtime(RuntimeKind::containerd));
  StagePlan plan = stage.plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK_FALSE(plan.edits[0].before);
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("version = 3"));
  CHECK(f.runner.argvs() == std::vector<std::vector<std::string>>{{"containerd", "--version"}});
}

TEST_CASE("containerd: an existing config is edited without asking containerd", "[stages]") {
  Fixture f;
  f.dir.write("/etc/containerd/config.toml", "version = 2\n# ours to keep\n");
  RuntimeStage stage(for_runtime(RuntimeKind::containerd));
  StagePlan plan = stage.plan(f.ctx);
  REQUIRE(plan.edits.size() == 1);
  CHECK_THAT(*plan.edits[0].after, Catch::StartsWith("version = 2\n# ours to keep\n"));
  CHECK_THAT(*plan.edits[0].after, Catch::Contains("default_runtime_name = \"nvidia\""));
  CHECK(f.runner.commands().empty());
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
