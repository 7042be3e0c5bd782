#pragma once
// Rendering stage runs for people (counts, unified diffs, commands, notes) and for programs
// (JSON), shared by plan, apply, configure and revert.

#include <ostream>
#include <vector>

#include "settings.hpp"
#include "stages/orchestrator.hpp"

namespace gns::cli {

enum class RunKind { apply, revert };

// Writes `runs` of `kind` to `out` as text, or as one JSON document when `json`; `dry_run`
// says they were only planned.
void render_runs(std::ostream& out, const std::vector<stages::StageRun>& runs, RunKind kind,
                 DryRun dry_run, bool json);

}  // namespace gns::cli
