// Myers' O(ND) algorithm ("An O(ND) Difference Algorithm and Its Variations", 1986) in its
// linear-space form: searches from both ends meet on the "middle snake" of a shortest edit
// script, and the parts on either side of it are aligned the same way. A post-pass of our own
// then moves each changed block to the most readable of its equally short places (place_block).

#include "line_diff.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gns::util {

namespace {

using Index = std::ptrdiff_t;
using Lines = std::vector<std::string_view>;
// One flag per line of one text: 1 when the line is deleted (before) or inserted (after).
using Marks = std::vector<char>;

// Finding a script of D changed lines costs O((N + M) * D) time; beyond this many, replacing
// the whole differing middle is still a correct diff, and one that big reads as a rewrite.
constexpr Index k_max_edits = 20000;

template <class Vector>
auto& at(Vector& v, Index i) {
  return v[static_cast<std::size_t>(i)];
}

// Equal lines get equal numbers in `ids`, so that the search compares integers: the map
// hashes each line once and compares bytes only between lines whose hashes are equal.
std::vector<int> number_lines(const Lines& lines, std::unordered_map<std::string_view, int>& ids) {
  std::vector<int> numbers;
  numbers.reserve(lines.size());
  for (const std::string_view line : lines)
    numbers.push_back(ids.try_emplace(line, static_cast<int>(ids.size())).first->second);
  return numbers;
}

// How far one search has got: the largest x reached on each diagonal k = x - y of an n x m
// edit graph (x counts lines of before, y of after), or -1 where it has not got yet.
struct Frontier {
  Index n = 0, m = 0;
  std::vector<Index> far;

  void reset(Index lines0, Index lines1) {
    n = lines0, m = lines1;
    far.assign(static_cast<std::size_t>(n + m + 1), -1);
  }
  Index get(Index k) const { return k < -m || k > n ? -1 : at(far, k + m); }
  void set(Index k, Index x) { at(far, k + m) = x; }
};

// Myers' greedy step: extends `f` from the paths with d - 1 changes to those with d. Each
// diagonal takes the further of a step down from k + 1 or right from k - 1, then follows equal
// lines (`same(x, y)`). `meets(k, start, end)` hears of each such snake; true stops the search.
template <class Same, class Meets>
bool advance(Frontier& f, Index d, const Same& same, const Meets& meets) {
  for (Index k = -d; k <= d; k += 2) {
    if (k < -f.m || k > f.n) continue;
    const Index down = k < d ? f.get(k + 1) : -1;
    const Index right = k > -d && f.get(k - 1) >= 0 ? f.get(k - 1) + 1 : -1;
    // A step off the graph's edge is pulled back onto it: that point is just as reachable, by
    // running along the edge instead.
    Index x = d == 0 ? 0 : std::min({std::max(down, right), f.n, f.m + k});
    const Index start = x;
    while (x < f.n && x - k < f.m && same(x, x - k)) ++x;
    f.set(k, x);
    if (meets(k, start, x)) return true;
  }
  return false;
}

// Equal lines from (x0, y0) to (x1, y1), as line numbers of before and after.
struct Snake {
  Index x0, y0, x1, y1;
};

// Marks in `deleted` and `inserted` the lines that a shortest edit script deletes from `a`
// and inserts from `b`.
class Aligner {
 public:
  Aligner(const std::vector<int>& a, const std::vector<int>& b, Marks& deleted, Marks& inserted)
      : m_a(a), m_b(b), m_deleted(deleted), m_inserted(inserted) {}

  // Aligns lines [a0, a1) of before with [b0, b1) of after.
  void align(Index a0, Index a1, Index b0, Index b1) {
    // Equal heads and tails match outright: cheap, and a typical config edit leaves nothing
    // else to search. It also means that any snake found below splits the work in two.
    while (a0 < a1 && b0 < b1 && at(m_a, a0) == at(m_b, b0)) ++a0, ++b0;
    while (a0 < a1 && b0 < b1 && at(m_a, a1 - 1) == at(m_b, b1 - 1)) --a1, --b1;
    const std::optional<Snake> snake =
        a0 < a1 && b0 < b1 ? middle_snake(a0, a1, b0, b1) : std::nullopt;
    if (!snake) {
      // Either one side is empty, or the search gave up: every line left is changed.
      std::fill(m_deleted.begin() + a0, m_deleted.begin() + a1, 1);
      std::fill(m_inserted.begin() + b0, m_inserted.begin() + b1, 1);
      return;
    }
    align(a0, snake->x0, b0, snake->y0);
    align(snake->x1, a1, snake->y1, b1);
  }

 private:
  // The snake where a search from the start and one from the end first overlap; it lies on a
  // shortest script (Myers, section 4b). None if that script has more than k_max_edits changes.
  std::optional<Snake> middle_snake(Index a0, Index a1, Index b0, Index b1) {
    const Index n = a1 - a0, m = b1 - b0, delta = n - m;
    m_forward.reset(n, m);
    m_backward.reset(n, m);  // searches both texts reversed: its x counts lines from the end
    const auto same_fwd = [&](Index x, Index y) { return at(m_a, a0 + x) == at(m_b, b0 + y); };
    const auto same_bwd = [&](Index x, Index y) {
      return at(m_a, a1 - 1 - x) == at(m_b, b1 - 1 - y);
    };
    std::optional<Snake> found;
    // Diagonal k seen from the start is diagonal delta - k seen from the end. Paths first
    // overlap after a forward step when delta is odd, after a backward one when it is even.
    const auto fwd_meets = [&](Index k, Index start, Index x) {
      const Index back = m_backward.get(delta - k);
      if (delta % 2 == 0 || back < 0 || x + back < n) return false;
      found = Snake{a0 + start, b0 + start - k, a0 + x, b0 + x - k};
      return true;
    };
    const auto bwd_meets = [&](Index k, Index start, Index x) {
      const Index fwd = m_forward.get(delta - k);
      if (delta % 2 != 0 || fwd < 0 || x + fwd < n) return false;
      found = Snake{a1 - x, b1 - (x - k), a1 - start, b1 - (start - k)};
      return true;
    };
    for (Index d = 0; 2 * d <= k_max_edits + 1; ++d)
      if (advance(m_forward, d, same_fwd, fwd_meets) || advance(m_backward, d, same_bwd, bwd_meets))
        return found;
    return std::nullopt;
  }

  const std::vector<int>& m_a;
  const std::vector<int>& m_b;
  Marks& m_deleted;
  Marks& m_inserted;
  Frontier m_forward, m_backward;
};

// One text and its marks, for the post-pass.
struct Side {
  const std::vector<int>& ids;
  const Lines& text;
  Marks& marks;
};

// gaps[g] is 1 when `marks` has a changed line between its unchanged lines g - 1 and g.
Marks changed_gaps(const Marks& marks) {
  Marks gaps(1, 0);
  for (const char changed : marks) {
    if (!changed) gaps.push_back(0);
    if (changed) gaps.back() = 1;
  }
  return gaps;
}

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t\r\n") == line.npos; }

// Moves the changed block [start, end) of `side` and returns its new start. A block whose last
// line equals the line above it can move up one line, and likewise down: another copy of a
// repeated line is then shown as changed, and the script is as short. Of those places it takes
// the one that best (1) joins another change of either text, so that a reader sees one change,
// then (2) ends with a blank line, so that an added or removed config section reads as a whole
// section followed by its separator; of equals, the lowest, so that the unchanged copy of a
// repeated line comes first.
// `gap` counts the unchanged lines above `start`; `other_gaps` is changed_gaps of the other text.
Index place_block(Side& side, Index start, Index end, Index gap, const Marks& other_gaps) {
  const Index length = end - start, n = std::ssize(side.marks);
  std::fill(side.marks.begin() + start, side.marks.begin() + end, 0);
  Index low = start, high = start;
  while (low > 0 && !at(side.marks, low - 1) &&
         at(side.ids, low - 1) == at(side.ids, low - 1 + length))
    --low;
  while (high + length < n && !at(side.marks, high + length) &&
         at(side.ids, high) == at(side.ids, high + length))
    ++high;
  Index best = high;
  int best_score = -1;
  for (Index p = high; p >= low; --p) {
    const bool joins = (p > 0 && at(side.marks, p - 1)) ||
                       (p + length < n && at(side.marks, p + length)) ||
                       at(other_gaps, gap + p - start);
    const int score = (joins ? 2 : 0) + (is_blank(at(side.text, p + length - 1)) ? 1 : 0);
    if (score > best_score) best = p, best_score = score;
  }
  std::fill(side.marks.begin() + best, side.marks.begin() + best + length, 1);
  return best;
}

// Places each changed block of `side`, top to bottom.
void place_blocks(Side side, const Marks& other_gaps) {
  const Index n = std::ssize(side.marks);
  Index changed_above = 0;
  for (Index i = 0; i < n; ++i) {
    if (!at(side.marks, i)) continue;
    Index end = i;
    while (end < n && at(side.marks, end)) ++end;
    const Index start = place_block(side, i, end, i - changed_above, other_gaps);
    changed_above += end - i;
    i = start + (end - i) - 1;
  }
}

// Unchanged lines pair up in order, so the changes are the runs of marks between them.
std::vector<LineChange> changes_from(const Marks& deleted, const Marks& inserted) {
  std::vector<LineChange> changes;
  const Index n = std::ssize(deleted), m = std::ssize(inserted);
  for (Index i = 0, j = 0; i < n || j < m; ++i, ++j) {  // the step passes an unchanged pair
    LineChange change{i, j, 0, 0};
    for (; i < n && at(deleted, i); ++i) ++change.deleted;
    for (; j < m && at(inserted, j); ++j) ++change.inserted;
    if (change.deleted + change.inserted > 0) changes.push_back(change);
  }
  return changes;
}

}  // namespace

std::vector<LineChange> diff_lines(const std::vector<std::string_view>& before,
                                   const std::vector<std::string_view>& after,
                                   [[maybe_unused]] std::ptrdiff_t horizon) {
  std::unordered_map<std::string_view, int> numbers;
  const std::vector<int> a = number_lines(before, numbers), b = number_lines(after, numbers);
  Marks deleted(a.size()), inserted(b.size());
  Aligner(a, b, deleted, inserted).align(0, std::ssize(a), 0, std::ssize(b));
  place_blocks({a, before, deleted}, changed_gaps(inserted));
  place_blocks({b, after, inserted}, changed_gaps(deleted));
  return changes_from(deleted, inserted);
}

}  // namespace gns::util
