#include "util/strings.hpp"

#include <catch2/catch.hpp>

using gns::util::join;

TEST_CASE("join puts the separator between items only", "[util]") {
  CHECK(join({}, ", ").empty());
  CHECK(join({"a"}, ", ") == "a");
  CHECK(join({"a", "b", "c"}, ", ") == "a, b, c");
  CHECK(join({"", "b"}, "-") == "-b");  // an empty first item still gets its separator
  CHECK(join({"a", ""}, "-") == "a-");
}
