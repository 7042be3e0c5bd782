#pragma once
// Rendering stage runs for people (counts, unified diffs, commands, notes) and for programs
// (JSON), shared by plan, apply, configure and revert.

#include <ostream>
#include <vector>

#include "settings.hpp"
#include "stages/orchestrator.hpp"

namespace gns::cli {

// plan, or apply/configure (with --dry-run or not), or revert.
enum class RunKind { plan, apply, revert };

// Writes the runs of `result` (of `kind`) to `out` as text, or as one JSON document when
// `json`; `dry_run` says they were only planned. A reboot the apply needs ends the text with
// what to do about it.
void render_runs(std::ostream& out, const stages::ApplyResult& result, RunKind kind,
                 DryRun dry_run, bool json);

}  // namespace gns::cli
