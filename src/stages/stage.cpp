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

}  // namespace gns::stages
