#pragma once
// config_error_from: the ConfigError an attempt throws, for tests that check its position and
// message; the test fails (showing `input`) when the attempt throws none.

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string_view>

#include "error.hpp"

namespace gns::test {

template <class Attempt>
ConfigError config_error_from(Attempt&& attempt, std::string_view input) {
  try {
    attempt();
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("accepted:\n" << input);
  throw std::logic_error("unreachable");  // FAIL throws; this only tells the compiler
}

}  // namespace gns::test
