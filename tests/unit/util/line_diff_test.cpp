#include "util/line_diff.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using gns::util::diff_lines;
using gns::util::LineChange;

namespace {

using Lines = std::vector<std::string_view>;
using Changes = std::vector<LineChange>;

std::size_t to_size(std::ptrdiff_t i) { return static_cast<std::size_t>(i); }

// `before` with `changes` applied. Each change must start at or after the end of the one
// before it, and at the line of `after` that the unchanged lines so far lead to.
Lines apply(const Lines& before, const Lines& after, const Changes& changes) {
  Lines out;
  std::size_t i = 0;
  for (const LineChange& c : changes) {
    REQUIRE(c.deleted + c.inserted > 0);
    REQUIRE(to_size(c.line0) >= i);
    out.insert(out.end(), before.begin() + static_cast<std::ptrdiff_t>(i),
               before.begin() + c.line0);
    REQUIRE(to_size(c.line1) == out.size());
    REQUIRE(to_size(c.line1 + c.inserted) <= after.size());
    out.insert(out.end(), after.begin() + c.line1, after.begin() + c.line1 + c.inserted);
    i = to_size(c.line0 + c.deleted);
  }
  REQUIRE(i <= before.size());
  out.insert(out.end(), before.begin() + static_cast<std::ptrdiff_t>(i), before.end());
  return out;
}

std::ptrdiff_t edit_count(const Changes& changes) {
  std::ptrdiff_t count = 0;
  for (const LineChange& c : changes) count += c.deleted + c.inserted;
  return count;
}

// The fewest deleted plus inserted lines that turn `a` into `b`, by the textbook O(N * M)
// longest-common-subsequence table: slow, but plainly right.
std::ptrdiff_t minimal_edit_count(const Lines& a, const Lines& b) {
  std::vector<std::vector<std::size_t>> lcs(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = a.size(); i-- > 0;)
    for (std::size_t j = b.size(); j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  return static_cast<std::ptrdiff_t>(a.size() + b.size() - 2 * lcs[0][0]);
}

// What every result must be, however the alignment was chosen: a shortest script that turns
// `before` into `after`, with changes separated by unchanged lines.
void check_minimal_and_correct(const Lines& before, const Lines& after) {
  const Changes changes = diff_lines(before, after, 3);
  CHECK(apply(before, after, changes) == after);
  CHECK(edit_count(changes) == minimal_edit_count(before, after));
  for (std::size_t n = 1; n < changes.size(); ++n)
    CHECK(changes[n].line0 > changes[n - 1].line0 + changes[n - 1].deleted);
  CHECK(diff_lines(before, after, 0) == changes);  // the horizon changes nothing
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<LineChange> {
  static std::string convert(const LineChange& c) {
    return "{" + std::to_string(c.line0) + "," + std::to_string(c.line1) + " -" +
           std::to_string(c.deleted) + " +" + std::to_string(c.inserted) + "}";
  }
};
}  // namespace Catch

// Exact results below are only asserted where every shortest script gives the same changes,
// or where the header documents which of several equally short ones is returned.

TEST_CASE("diff_lines finds nothing in equal or empty inputs", "[util]") {
  CHECK(diff_lines({}, {}, 3).empty());
  CHECK(diff_lines(Lines{"a\n", "b\n"}, Lines{"a\n", "b\n"}, 3).empty());
}

TEST_CASE("diff_lines reports insertions and deletions at the line before them", "[util]") {
  const Lines before{"a\n", "b\n", "c\n"};
  CHECK(diff_lines(before, Lines{"a\n", "b\n", "new\n", "c\n"}, 3) == Changes{{2, 2, 0, 1}});
  CHECK(diff_lines(before, Lines{"a\n", "c\n"}, 3) == Changes{{1, 1, 1, 0}});
  CHECK(diff_lines({}, before, 3) == Changes{{0, 0, 0, 3}});
  CHECK(diff_lines(before, {}, 3) == Changes{{0, 0, 3, 0}});
  CHECK(diff_lines(before, Lines{"a\n", "B\n", "c\n"}, 0) == Changes{{1, 1, 1, 1}});
}

TEST_CASE("diff_lines compares lines as exact bytes", "[util]") {
  // A missing final newline or a '\r' makes a different line.
  CHECK(diff_lines(Lines{"a\n"}, Lines{"a"}, 3) == Changes{{0, 0, 1, 1}});
  CHECK(diff_lines(Lines{"a\r\n"}, Lines{"a\n"}, 3) == Changes{{0, 0, 1, 1}});
  CHECK(diff_lines(Lines{"k = 1\n"}, Lines{"k = 1 \n"}, 3) == Changes{{0, 0, 1, 1}});
}

TEST_CASE("diff_lines finds separate edits of a config", "[util]") {
  const Lines before{"[a]\n", "x = 1\n", "y = 2\n", "\n", "[b]\n", "z = 3\n", "w = 4\n"};
  const Lines after{"[a]\n", "x = 1\n", "y = 5\n", "\n", "[b]\n", "z = 3\n", "v = 6\n", "w = 4\n"};
  CHECK(diff_lines(before, after, 3) == Changes{{2, 2, 1, 1}, {6, 6, 0, 1}});
}

TEST_CASE("diff_lines returns a shortest script where several exist", "[util]") {
  check_minimal_and_correct(Lines{"a\n", "b\n"}, Lines{"b\n", "a\n"});
  check_minimal_and_correct(Lines{"a\n", "b\n", "c\n", "a\n", "b\n", "b\n", "a\n"},
                            Lines{"c\n", "b\n", "a\n", "b\n", "a\n", "c\n"});
  check_minimal_and_correct(Lines{"}\n", "}\n", "\n", "}\n"}, Lines{"\n", "}\n", "}\n", "\n"});
}

TEST_CASE("diff_lines slides an ambiguous block as its header documents", "[util]") {
  // Onto another change, so that they read as one: "b, a" could be inserted after either "b".
  CHECK(diff_lines(Lines{"a\n", "b\n", "a\n", "c\n"},
                   Lines{"a\n", "b\n", "a\n", "b\n", "a\n", "X\n"}, 3) == Changes{{3, 3, 1, 3}});
  // To end on a blank line: an added or removed section comes with its trailing separator.
  const Lines two{"[a]\n", "x = 1\n", "\n", "[c]\n", "z = 3\n"};
  const Lines three{"[a]\n", "x = 1\n", "\n", "[b]\n", "y = 2\n", "\n", "[c]\n", "z = 3\n"};
  CHECK(diff_lines(two, three, 3) == Changes{{3, 3, 0, 3}});
  CHECK(diff_lines(three, two, 3) == Changes{{3, 3, 3, 0}});
  // Otherwise down: the copy of a repeated line that is added or removed is the last one.
  CHECK(diff_lines(Lines{"x\n", "x\n", "x\n"}, Lines{"x\n", "x\n"}, 3) == Changes{{2, 2, 1, 0}});
  CHECK(diff_lines(Lines{"k\n", "}\n", "e\n"}, Lines{"k\n", "}\n", "}\n", "e\n"}, 3) ==
        Changes{{2, 2, 0, 1}});
}

TEST_CASE("diff_lines is minimal and correct on random texts", "[util]") {
  // Few distinct lines, so that most pairs have many equally short scripts.
  const std::vector<std::string_view> pool{"a\n", "b\n", "c\n", "\n", "}\n", "a"};
  std::mt19937 rng(1986);
  const auto pick = [&rng](int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(rng);
  };
  const auto random_lines = [&](int max_count) {
    Lines lines(static_cast<std::size_t>(pick(0, max_count)));
    for (std::string_view& line : lines) line = pool[static_cast<std::size_t>(pick(0, 4))];
    return lines;
  };
  for (int n = 0; n < 3000; ++n) {
    const Lines before = random_lines(n < 2000 ? 12 : 40);
    Lines after = pick(0, 1) == 0 ? random_lines(12) : before;
    if (after == before && !after.empty()) {
      // An edit of before, like a config change: replace a few lines and add one.
      for (int edits = pick(1, 3); edits > 0; --edits)
        after[static_cast<std::size_t>(pick(0, static_cast<int>(after.size()) - 1))] =
            pool[static_cast<std::size_t>(pick(0, 5))];
      after.insert(after.begin() + pick(0, static_cast<int>(after.size())), pool[0]);
    }
    INFO("case " << n);
    check_minimal_and_correct(before, after);
  }
}

TEST_CASE("diff_lines bounds its work on texts with very many changes", "[util]") {
  // Every second line replaced: the shortest script changes 2 * 15000 lines, more than the
  // search takes on, so the whole differing middle is replaced instead.
  std::vector<std::string> before_text, after_text;
  for (int i = 0; i < 30000; ++i) {
    before_text.push_back("line " + std::to_string(i) + "\n");
    after_text.push_back(i % 2 == 0 ? before_text.back() : "new " + std::to_string(i) + "\n");
  }
  const Lines before(before_text.begin(), before_text.end());
  const Lines after(after_text.begin(), after_text.end());
  CHECK(diff_lines(before, after, 3) == Changes{{1, 1, 29999, 29999}});
  // A tenth of that stays within bounds and is diffed exactly.
  const Lines head0(before.begin(), before.begin() + 3000);
  const Lines head1(after.begin(), after.begin() + 3000);
  const Changes changes = diff_lines(head0, head1, 3);
  CHECK(changes.size() == 1500);
  CHECK(edit_count(changes) == 3000);
  CHECK(apply(head0, head1, changes) == head1);
}
