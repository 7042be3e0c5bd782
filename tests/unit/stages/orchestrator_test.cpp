#include "stages/orchestrator.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

#include "error.hpp"
#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"

using namespace gns;
using namespace gns::stages;
namespace fs = std::filesystem;

namespace {

// A stage that writes one file of its own, and needs a reboot while `reboot` says so.
class FileStage : public Stage {
public:
  FileStage(std::string name, std::string path) : m_name(std::move(name)), m_path(std::move(path)) {}
  std::optional<std::string> reboot;

  std::string_view name() const override { return m_name; }
  Inspection inspect(const StageContext&, const StageRecord*) const override { return {}; }
  StagePlan plan(const StageContext& ctx) const override {
    StagePlan plan;
    plan.stage = m_name;
    plan.reboot_reason = reboot;
    auto before = ctx.root.read_if_exists(m_path);
    if (before != m_name + "\n") plan.edits.push_back({m_path, before, m_name + "\n", 0644});
    return plan;
  }

private:
  std::string m_name, m_path;
};

struct Fixture {
  Fixture() {
    stages.push_back(std::make_unique<FileStage>("first", "/etc/first.conf"));
    stages.push_back(std::make_unique<FileStage>("second", "/etc/second.conf"));
    stages.push_back(std::make_unique<FileStage>("third", "/etc/third.conf"));
  }
  FileStage& stage(size_t i) { return static_cast<FileStage&>(*stages[i]); }
  ApplyResult apply(DryRun dry_run = DryRun::no) { return apply_stages(ctx, settings, stages, dry_run); }

  test::TempRoot dir;
  host::HostRoot root{dir.path()};
  test::RecordingRunner runner;
  StageContext ctx{root, runner};
  Settings settings;
  std::vector<std::unique_ptr<Stage>> stages;
};

}  // namespace

TEST_CASE("apply stops after a stage that needs a reboot and defers the rest", "[stages]") {
  Fixture f;
  f.stage(0).reboot = "the old module is loaded";
  auto result = f.apply();
  REQUIRE(result.reboot_stage == "first");
  CHECK(result.reboot_reason == "the old module is loaded");
  REQUIRE(result.runs.size() == 3);
  CHECK_FALSE(result.runs[0].deferred);
  CHECK(result.runs[1].deferred);
  CHECK(result.runs[2].deferred);
  CHECK(fs::exists(f.dir / "/etc/first.conf"));  // the stage that needs the reboot is applied
  CHECK_FALSE(fs::exists(f.dir / "/etc/second.conf"));
  CHECK_FALSE(fs::exists(f.dir / "/etc/third.conf"));
  CHECK(test::read_file(f.dir / "/run/reboot-required") == "*** System restart required ***\n");
  CHECK(test::read_file(f.dir / "/run/reboot-required.pkgs") == "gpu-node-setup\n");

  auto pending = Journal::load(f.root).pending_reboot();
  REQUIRE(pending);
  CHECK(pending->stage == "first");
  CHECK(pending->reason == "the old module is loaded");
  CHECK(pending->deferred == std::vector<std::string>{"second", "third"});
  CHECK_FALSE(pending->requested_at.empty());

  SECTION("a second apply before the reboot still defers, and lists the package once") {
    f.dir.write("/run/reboot-required.pkgs", "linux-image-6.1.0-18-amd64\n");
    auto again = f.apply();
    CHECK(again.reboot_stage == "first");
    CHECK(again.runs[0].plan.empty());
    CHECK_FALSE(fs::exists(f.dir / "/etc/second.conf"));
    f.apply();
    CHECK(test::read_file(f.dir / "/run/reboot-required.pkgs") ==
          "linux-image-6.1.0-18-amd64\ngpu-node-setup\n");
    CHECK(Journal::load(f.root).pending_reboot()->requested_at == pending->requested_at);
  }

  SECTION("after the reboot, apply takes up the deferred stages and forgets the reboot") {
    f.stage(0).reboot.reset();
    auto resumed = f.apply();
    CHECK_FALSE(resumed.reboot_stage);
    CHECK(resumed.runs[0].plan.empty());
    CHECK(resumed.runs[1].outcome.files_written == 1);
    CHECK(resumed.runs[2].outcome.files_written == 1);
    CHECK(fs::exists(f.dir / "/etc/third.conf"));
    CHECK_FALSE(Journal::load(f.root).pending_reboot());
  }

  SECTION("an apply of other stages only keeps the reboot, less the stages it applied") {
    f.stages.erase(f.stages.begin());
    f.apply();
    CHECK(fs::exists(f.dir / "/etc/second.conf"));
    auto still = Journal::load(f.root).pending_reboot();
    REQUIRE(still);
    CHECK(still->stage == "first");
    CHECK(still->deferred.empty());
  }

  SECTION("an apply before the reboot writes nothing at all") {
    auto journal = test::read_file(f.dir / std::string(Journal::k_path));
    auto stamp = fs::last_write_time(f.dir / std::string(Journal::k_path));
    auto flag = fs::last_write_time(f.dir / "/run/reboot-required");
    f.apply();
    CHECK(test::read_file(f.dir / std::string(Journal::k_path)) == journal);
    CHECK(fs::last_write_time(f.dir / std::string(Journal::k_path)) == stamp);
    CHECK(fs::last_write_time(f.dir / "/run/reboot-required") == flag);
  }

  SECTION("revert of the stage that asked for the reboot forgets it") {
    revert_stages(f.ctx, f.settings, f.stages, DryRun::no, Force::no);
    CHECK_FALSE(fs::exists(f.dir / "/etc/first.conf"));
    CHECK_FALSE(Journal::load(f.root).pending_reboot());
  }
}

TEST_CASE("the stages after a reboot are not even planned", "[stages]") {
  // A stage that cannot plan yet (its runtime is installed by an earlier stage, say).
  class NotYet : public Stage {
  public:
    std::string_view name() const override { return "later"; }
    Inspection inspect(const StageContext&, const StageRecord*) const override { return {}; }
    StagePlan plan(const StageContext&) const override { throw Error("cannot plan before the reboot"); }
  };
  Fixture f;
  f.stage(0).reboot = "nouveau is loaded";
  f.stages.resize(1);
  f.stages.push_back(std::make_unique<NotYet>());
  auto result = f.apply();
  CHECK(result.reboot_stage == "first");
  REQUIRE(result.runs.size() == 2);
  CHECK(result.runs[1].deferred);
  CHECK(result.runs[1].plan.stage == "later");
  CHECK(fs::exists(f.dir / "/etc/first.conf"));
}

TEST_CASE("a stage that still needs a reboot after one stops apply instead of asking again", "[stages]") {
  Fixture f;
  f.dir.write("/proc/sys/kernel/random/boot_id", "1b7d0c2e-0001\n");
  f.stage(0).reboot = "nouveau is loaded";
  CHECK(f.apply().reboot_stage == "first");
  CHECK(Journal::load(f.root).pending_reboot()->boot_id == "1b7d0c2e-0001");
  CHECK(f.apply().reboot_stage == "first");  // the same boot: still waiting, no error

  f.dir.write("/proc/sys/kernel/random/boot_id", "1b7d0c2e-0002\n");  // rebooted
  CHECK_THROWS_WITH(f.apply(), Catch::Contains("first still needs a reboot after the one asked for") &&
                                   Catch::Contains("Rebooting again will not help"));
  CHECK_FALSE(fs::exists(f.dir / "/etc/second.conf"));

  f.stage(0).reboot.reset();  // fixed: the next apply goes on
  CHECK_FALSE(f.apply().reboot_stage);
  CHECK(fs::exists(f.dir / "/etc/second.conf"));
}

TEST_CASE("a dry run says a reboot would be needed and writes nothing", "[stages]") {
  Fixture f;
  f.stage(1).reboot = "nouveau is loaded";
  auto result = f.apply(DryRun::yes);
  CHECK(result.reboot_stage == "second");
  CHECK_FALSE(result.runs[1].deferred);
  CHECK(result.runs[2].deferred);
  CHECK_FALSE(fs::exists(f.dir / "/run"));
  CHECK_FALSE(fs::exists(f.dir / "/etc"));
  CHECK_FALSE(fs::exists(f.dir / "/var/lib/gpu-node-setup/journal.json"));
}

TEST_CASE("apply without a reboot writes no reboot-required file", "[stages]") {
  Fixture f;
  auto result = f.apply();
  CHECK_FALSE(result.reboot_stage);
  for (const auto& run : result.runs) CHECK(run.outcome.files_written == 1);
  CHECK_FALSE(fs::exists(f.dir / "/run/reboot-required"));
  CHECK_FALSE(Journal::load(f.root).pending_reboot());
}
