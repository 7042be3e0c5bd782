#pragma once
// unified_diff: shows a planned file change the way reviewers already read changes, in GNU
// `diff -u` format: a shortest diff (util/line_diff.hpp, Myers' O(ND) algorithm) that `patch`
// applies. Where several shortest diffs exist it may align differently from GNU diff.

#include <string>
#include <string_view>

namespace gns::util {

// The differences between the texts `before` and `after` in GNU unified format:
// "--- `before_label`" and "+++ `after_label`" (no timestamps), then hunks
// "@@ -start,count +start,count @@" with `context` unchanged lines around each change (hunks
// closer than 2 * `context` lines are merged; a negative `context` counts as 0). A count of 1
// is omitted and an empty range is written "line-before,0", as GNU diff does; a last line
// without a newline is followed by "\ No newline at end of file". Lines end at '\n' only, so a
// '\r' is part of the line. Returns "" when the texts are equal. An absent file is diffed as
// "" and labelled "/dev/null" by the caller. Texts are compared as text even when they hold
// NUL bytes (GNU diff would call them binary). Throws nothing but std::bad_alloc.
std::string unified_diff(std::string_view before, std::string_view after,
                         const std::string& before_label, const std::string& after_label,
                         int context = 3);

}  // namespace gns::util
