#include "stage.hpp"

namespace gns::stages {

std::string_view to_string(StageState state) {
  switch (state) {
    case StageState::applied: return "applied";
    case StageState::pending: return "pending";
    case StageState::drifted: return "drifted";
    case StageState::not_applicable: break;
  }
  return "not_applicable";
}

PlannedCommand restart_command(const std::string& service) {
  return {host::Command{"systemctl", {"try-restart", service}, std::chrono::seconds(120)},
          service + " reads its configuration only when it starts"};
}

}  // namespace gns::stages
