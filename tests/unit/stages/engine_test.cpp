#include "stages/engine.hpp"

#include <catch2/catch.hpp>

#include "support/recording_runner.hpp"
#include "support/temp_root.hpp"
#include "util/sha256.hpp"

using namespace gns;
using namespace gns::stages;

namespace {

// A stage whose plan is whatever the test sets; it takes out its own line on --force.
class FakeStage : public Stage {
public:
  StagePlan next;
  std::string_view name() const override { return "fake"; }
  Inspection inspect(const StageContext&, const StageRecord*) const override { return {}; }
  StagePlan plan(const StageContext&) const override { return next; }
  std::optional<std::string> remove_own_changes(const std::string&, const std::string& current,
                                                const nlohmann::json& undo) const override {
    std::string line = undo.at("line").get<std::string>();
    std::string kept = current;
    if (auto at = kept.find(line); at != std::string::npos) kept.erase(at, line.size());
    return kept;
  }
};

struct Fixture {
  test::TempRoot dir;
  host::HostRoot root{dir.path()};
  test::RecordingRunner runner;
  StageContext ctx{root, runner};
  FakeStage stage;
};

StagePlan edit_plan(const host::HostRoot& root, const std::string& path, const std::string& after) {
  StagePlan plan;
  plan.stage = "fake";
  plan.edits.push_back({path, root.read_if_exists(path), after, 0644});
  plan.undo = {{"line", "ours\n"}};
  return plan;
}

}  // namespace

TEST_CASE("apply writes the plan and journals the original", "[stages]") {
  Fixture f;
  f.dir.write("/etc/app.conf", "user\n");
  Journal journal;
  auto outcome = apply_plan(f.ctx, journal, edit_plan(f.root, "/etc/app.conf", "user\nours\n"));
  CHECK(outcome.files_written == 1);
  CHECK(test::read_file(f.dir / "/etc/app.conf") == "user\nours\n");

  Journal saved = Journal::load(f.root);
  const StageRecord* record = saved.find("fake");
  REQUIRE(record);
  REQUIRE(record->files.size() == 1);
  CHECK(record->files[0].sha256_before == util::sha256_hex("user\n"));
  CHECK(record->files[0].sha256_after == util::sha256_hex("user\nours\n"));
  REQUIRE(record->files[0].backup);
  CHECK(test::read_file(f.dir / *record->files[0].backup) == "user\n");
  CHECK(record->undo.at("line") == "ours\n");
}

TEST_CASE("revert restores the original bytes, or removes a file that was absent", "[stages]") {
  Fixture f;
  f.dir.write("/etc/app.conf", "user\r\nno final newline");
  Journal journal;
  apply_plan(f.ctx, journal, edit_plan(f.root, "/etc/app.conf", "changed\n"));
  apply_plan(f.ctx, journal, edit_plan(f.root, "/etc/new.conf", "created\n"));
  // A second apply of the same file keeps the first original.
  apply_plan(f.ctx, journal, edit_plan(f.root, "/etc/app.conf", "changed again\n"));

  auto plan = plan_revert(f.ctx, journal, f.stage, Force::no);
  CHECK(plan.edits.size() == 2);
  apply_revert(f.ctx, journal, plan);
  CHECK(test::read_file(f.dir / "/etc/app.conf") == "user\r\nno final newline");
  CHECK_FALSE(std::filesystem::exists(f.dir / "/etc/new.conf"));
  CHECK_FALSE(Journal::load(f.root).find("fake"));
  CHECK(plan_revert(f.ctx, Journal::load(f.root), f.stage, Force::no).empty());
}

TEST_CASE("revert refuses to discard changes made after apply, unless forced", "[stages]") {
  Fixture f;
  f.dir.write("/etc/app.conf", "user\n");
  Journal journal;
  apply_plan(f.ctx, journal, edit_plan(f.root, "/etc/app.conf", "user\nours\n"));
  f.dir.write("/etc/app.conf", "user\nours\nlater edit\n");

  CHECK_THROWS_AS(plan_revert(f.ctx, journal, f.stage, Force::no), RevertRefused);
  CHECK_THROWS_WITH(plan_revert(f.ctx, journal, f.stage, Force::no), Catch::Contains("/etc/app.conf"));
  CHECK(test::read_file(f.dir / "/etc/app.conf") == "user\nours\nlater edit\n");

  // --force takes out only our line; the later edit survives.
  apply_revert(f.ctx, journal, plan_revert(f.ctx, journal, f.stage, Force::yes));
  CHECK(test::read_file(f.dir / "/etc/app.conf") == "user\nlater edit\n");
}

TEST_CASE("a file already back as it was is left alone by revert", "[stages]") {
  Fixture f;
  f.dir.write("/etc/app.conf", "user\n");
  Journal journal;
  apply_plan(f.ctx, journal, edit_plan(f.root, "/etc/app.conf", "user\nours\n"));
  f.dir.write("/etc/app.conf", "user\n");
  CHECK(plan_revert(f.ctx, journal, f.stage, Force::no).edits.empty());
}

TEST_CASE("commands run after the edits, restarts are journaled and repeated on revert", "[stages]") {
  Fixture f;
  Journal journal;
  auto plan = edit_plan(f.root, "/etc/app.conf", "ours\n");
  plan.commands.push_back({host::Command{"systemctl", {"try-restart", "app"}}, "reads config at start"});
  auto outcome = apply_plan(f.ctx, journal, plan);
  CHECK(outcome.commands_run == 1);
  CHECK(f.runner.argvs() == std::vector<std::vector<std::string>>{{"systemctl", "try-restart", "app"}});
  CHECK(Journal::load(f.root).find("fake")->restarted == std::vector<std::string>{"app"});
  // Under a root other than "/", revert never restarts the machine's own services.
  CHECK(plan_revert(f.ctx, journal, f.stage, Force::no).commands.empty());
}

TEST_CASE("a failing command stops apply with the edits journaled", "[stages]") {
  Fixture f;
  host::CommandResult failure;
  failure.exit_status = 1;
  failure.err = "Job for app.service failed.\n";
  f.runner.respond("systemctl", failure);
  Journal journal;
  auto plan = edit_plan(f.root, "/etc/app.conf", "ours\n");
  plan.commands.push_back({host::Command{"systemctl", {"try-restart", "app"}}, "why"});
  CHECK_THROWS_AS(apply_plan(f.ctx, journal, plan), CommandFailed);
  CHECK(Journal::load(f.root).find("fake")->files.size() == 1);
  // The restart was journaled before it ran, so revert restarts the service too.
  CHECK(Journal::load(f.root).find("fake")->restarted == std::vector<std::string>{"app"});
}

TEST_CASE("applying again over someone's later change makes their version the one revert restores",
          "[stages]") {
  Fixture f;
  f.dir.write("/etc/app.conf", "first\n");
  Journal journal;
  apply_plan(f.ctx, journal, edit_plan(f.root, "/etc/app.conf", "first\nours\n"));
  f.dir.write("/etc/app.conf", "operator rewrote it\n");  // our line is gone: drift
  apply_plan(f.ctx, journal, edit_plan(f.root, "/etc/app.conf", "operator rewrote it\nours\n"));

  apply_revert(f.ctx, journal, plan_revert(f.ctx, journal, f.stage, Force::no));
  CHECK(test::read_file(f.dir / "/etc/app.conf") == "operator rewrote it\n");
}

TEST_CASE("a damaged or missing backup stops revert before anything is written", "[stages]") {
  Fixture f;
  f.dir.write("/etc/app.conf", "user\n");
  Journal journal;
  apply_plan(f.ctx, journal, edit_plan(f.root, "/etc/app.conf", "ours\n"));
  const std::string backup = *journal.find("fake")->files[0].backup;
  f.dir.write(backup, "tampered\n");
  CHECK_THROWS_WITH(plan_revert(f.ctx, journal, f.stage, Force::no), Catch::Contains("damaged"));
  std::filesystem::remove(f.dir / backup);
  CHECK_THROWS_WITH(plan_revert(f.ctx, journal, f.stage, Force::no), Catch::Contains("missing"));
  CHECK(test::read_file(f.dir / "/etc/app.conf") == "ours\n");
}

TEST_CASE("a damaged journal is an error, not an empty journal", "[stages]") {
  Fixture f;
  f.dir.write("/var/lib/gpu-node-setup/journal.json", "{\"schema_version\": 1, \"stages\": ");
  CHECK_THROWS_AS(Journal::load(f.root), ConfigError);
}
