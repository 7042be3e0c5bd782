#pragma once
// Carrying plans out and undoing them: the part every stage shares. apply writes exactly the
// plan's edits (journal and backups first, so a crash at any point can still be reverted) and
// runs exactly its commands; revert restores the journal's originals byte for byte.

#include <string>
#include <string_view>
#include <vector>

#include "../error.hpp"
#include "journal.hpp"
#include "stage.hpp"

namespace gns::stages {

// A revert that would throw away changes someone made after apply.
class RevertRefused : public Error {
public:
  using Error::Error;
};

enum class Force { no, yes };

struct ApplyOutcome {
  int files_written = 0;
  int commands_run = 0;
};

// Writes `plan`'s edits and runs its commands, recording each in `journal` (saved after
// every step). Throws Error (CommandFailed for a command) and stops at the first failure;
// what was done so far is journaled and can be reverted.
ApplyOutcome apply_plan(const StageContext& ctx, Journal& journal, const StagePlan& plan);

// The edits that put every file `stage` changed back as it was before apply, per the journal.
// A file that changed since apply is refused (RevertRefused names each) unless `force`: then
// the stage takes out only its own additions (Stage::remove_own_changes), or, where it cannot,
// the original is restored. Restart commands for services the stage restarted are included
// when the host root is "/". Empty when the stage is not journaled.
StagePlan plan_revert(const StageContext& ctx, const Journal& journal, const Stage& stage,
                      Force force);

// Carries out a revert plan and forgets the stage in `journal`.
ApplyOutcome apply_revert(const StageContext& ctx, Journal& journal, const StagePlan& plan);

}  // namespace gns::stages
