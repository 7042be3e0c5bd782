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

TEST_CASE("trim takes spaces tabs and carriage returns off both ends only", "[util]") {
  CHECK(gns::util::trim("  a b\t\r") == "a b");
  CHECK(gns::util::trim(" \t\r ").empty());
  CHECK(gns::util::trim("x") == "x");
}

TEST_CASE("lines_of splits at newlines and keeps a last line without one", "[util]") {
  using Lines = std::vector<std::string_view>;
  CHECK(gns::util::lines_of("a\n\nb") == Lines{"a", "", "b"});
  CHECK(gns::util::lines_of("a\n") == Lines{"a"});
  CHECK(gns::util::lines_of("").empty());
}
