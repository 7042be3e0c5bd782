#include "stages/orchestrator.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

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

  SECTION("an apply of other stages only leaves the pending reboot alone") {
    f.stages.erase(f.stages.begin());
    f.apply();
    CHECK(fs::exists(f.dir / "/etc/second.conf"));
    CHECK(Journal::load(f.root).pending_reboot());
  }
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
