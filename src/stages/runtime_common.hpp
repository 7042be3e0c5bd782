#pragma once
// Shared by the runtime stage's files (runtime_stage.cpp and one runtime_<kind>.cpp per
// container runtime); not part of the stage's interface.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "../settings.hpp"

namespace gns::stages {

// What revert --force needs to take our runtime out of `path` again, and status to judge it:
// the file, the runtime's name and binary, and the default runtime before ours.
nlohmann::json undo_record(const std::string& path, const RuntimeSettings& settings,
                           const std::optional<std::string>& previous_default);

}  // namespace gns::stages
