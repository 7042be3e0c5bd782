#pragma once
// The contract every stage keeps (DESIGN.md "The stages"): inspect reads and judges, plan says
// exactly what apply would do, apply does that and nothing more (stages/engine.hpp), revert
// undoes it from the journal.

#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../host/host_root.hpp"
#include "../host/runner.hpp"

namespace gns::stages {

struct StageRecord;  // journal.hpp

enum class StageState { applied, pending, drifted, not_applicable };

// "applied", "pending", "drifted", "not_applicable".
std::string_view to_string(StageState state);

struct Inspection {
  StageState state = StageState::not_applicable;
  std::string detail;  // one line a person can act on
};

// One file as apply would leave it.
struct FileEdit {
  std::string path;                   // host path
  std::optional<std::string> before;  // its bytes now; nullopt when absent
  std::optional<std::string> after;   // its bytes after apply; nullopt to remove it
  mode_t mode_if_new = 0644;
};

struct PlannedCommand {
  host::Command command;
  std::string reason;  // why it runs ("containerd reads its config only at start")
};

struct StageContext;

struct StagePlan {
  std::string stage;
  std::vector<FileEdit> edits;             // written first, in order
  std::vector<PlannedCommand> commands;    // then run, in order
  std::vector<std::string> notes;          // what a person should know
  nlohmann::json undo = nlohmann::json::object();  // stage data kept for revert
  // Set when what this plan does takes full effect only after a reboot: why, in a sentence.
  std::optional<std::string> reboot_reason;
  // Undo data only the commands' effect can tell (the packages an install pulled in besides
  // those asked for), read by apply after the commands ran, or after one of them failed, and
  // added to `undo`; empty when there is none.
  std::function<nlohmann::json(const StageContext&)> undo_after_commands;
  // Host files the commands themselves may change (dnf's versionlock list): journaled as
  // edits are, from their bytes before the commands to those after, so revert restores them.
  std::vector<std::string> files_changed_by_commands;

  bool empty() const { return edits.empty() && commands.empty(); }
};

// `systemctl try-restart service`: makes a changed config take effect; a service someone
// stopped stays stopped.
PlannedCommand restart_command(const std::string& service);

// What every stage may touch: the host, its commands, and nothing else.
struct StageContext {
  const host::HostRoot& root;
  host::Runner& runner;
};

class Stage {
public:
  virtual ~Stage() = default;
  // The name used in --stages and in the journal ("runtime").
  virtual std::string_view name() const = 0;
  // Judges the host without changing it or running anything that does. `applied` is the
  // journal's record of this stage (what was applied, and how), nullptr when it holds none.
  // Throws ConfigError for a file it cannot understand.
  virtual Inspection inspect(const StageContext& ctx, const StageRecord* applied) const = 0;
  // The exact edits and commands apply would make; empty when the host is as wanted.
  // Throws ConfigError for a file it cannot understand (then nothing may be written).
  virtual StagePlan plan(const StageContext& ctx) const = 0;
  // Commands a revert runs after restoring the stage's files, beyond restarting the services
  // apply restarted: whatever makes the restored files take effect (the initramfs rebuilt
  // without our blacklist), or undoes what files cannot (packages removed). Asked before the
  // files are restored; `undo` is the stage's undo data from the journal.
  virtual std::vector<PlannedCommand> commands_after_revert(const StageContext& ctx,
                                                            const nlohmann::json& undo) const {
    (void)ctx, (void)undo;
    return {};
  }

  // For revert --force of a file someone changed after apply: `current` with only this
  // stage's own additions taken out (per `undo`, the plan's undo data), so their later changes
  // survive; nullopt when the stage cannot tell its additions apart (the original is restored).
  virtual std::optional<std::string> remove_own_changes(const std::string& path,
                                                        const std::string& current,
                                                        const nlohmann::json& undo) const {
    (void)path, (void)current, (void)undo;
    return std::nullopt;
  }
};

}  // namespace gns::stages
