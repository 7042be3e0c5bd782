#pragma once
// diff_lines: the line alignment behind unified_diff, kept apart from the formatting. It finds
// a shortest edit script with Myers' O(ND) algorithm, then moves each changed block that could
// equally well sit elsewhere to the place a reader expects.

#include <cstddef>
#include <string_view>
#include <vector>

namespace gns::util {

// One place where the texts differ: `deleted` lines of before starting at `line0` are
// replaced by `inserted` lines of after starting at `line1`. Lines are 0-based; a side with no
// lines names the line before which they would be.
struct LineChange {
  std::ptrdiff_t line0 = 0;
  std::ptrdiff_t line1 = 0;
  std::ptrdiff_t deleted = 0;
  std::ptrdiff_t inserted = 0;

  // Member-wise equality (tests compare whole change lists).
  bool operator==(const LineChange&) const = default;
};

// The changes that turn the lines `before` into the lines `after`, in order and with unchanged
// lines between them; empty when they are equal. Lines are compared as exact bytes. The changes
// delete and insert as few lines as possible in all. Where a changed block could move up or
// down without that number growing, it goes, in order of preference, where it joins another
// change, where its last line is blank, and as low as it can; beyond that, which of several
// equally short scripts is returned is unspecified. `horizon` is ignored (kept for callers). When
// a shortest script would change more than about 20000 lines, the search stops and everything
// between the identical head and tail is reported as one change, so the work stays within
// O((N + M) * 20000) time and O(N + M) memory. Throws nothing but std::bad_alloc.
std::vector<LineChange> diff_lines(const std::vector<std::string_view>& before,
                                   const std::vector<std::string_view>& after,
                                   std::ptrdiff_t horizon);

}  // namespace gns::util
