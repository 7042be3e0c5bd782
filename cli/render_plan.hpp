#pragma once
// Rendering stage runs for people (counts, unified diffs, commands, notes) and for programs
// (JSON), shared by plan, apply, configure and revert.

#include <ostream>
#include <vector>

#include "stages/orchestrator.hpp"

namespace gns::cli {

enum class RunKind { plan, apply, revert };

// Writes `runs` to `out` as text, or as one JSON document when `json`.
void render_runs(std::ostream& out, const std::vector<stages::StageRun>& runs, RunKind kind,
                 bool json);

}  // namespace gns::cli
