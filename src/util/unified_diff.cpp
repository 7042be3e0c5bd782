#include "unified_diff.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "line_diff.hpp"

namespace gns::util {

namespace {

using Index = std::ptrdiff_t;
using Lines = std::vector<std::string_view>;

Index length_of(const Lines& lines) { return static_cast<Index>(lines.size()); }

const std::string_view& at(const Lines& lines, Index i) {
  return lines[static_cast<std::size_t>(i)];
}

// Lines keep their '\n', so a last line without one never equals a line that has one: GNU
// diff treats them as different lines too, and the output must say which one lacks it.
Lines split_lines(std::string_view text) {
  Lines lines;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    end = end == std::string_view::npos ? text.size() : end + 1;
    lines.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return lines;
}

// "start,count" of 0-based inclusive lines [first, last]; see the header for the odd cases.
std::string hunk_range(Index first, Index last) {
  if (last < first) return std::to_string(last + 1) + ",0";
  if (last == first) return std::to_string(first + 1);
  return std::to_string(first + 1) + "," + std::to_string(last - first + 1);
}

void append_line(std::string& out, char mark, std::string_view line) {
  out += mark;
  out += line;
  if (line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

// Writes the hunk made of changes [first, last], with `context` lines around it.
void append_hunk(std::string& out, const Lines& a, const Lines& b,
                 const std::vector<LineChange>& changes, std::size_t first, std::size_t last,
                 Index context) {
  const LineChange& head = changes[first];
  const LineChange& tail = changes[last];
  const Index first0 = std::max<Index>(0, head.line0 - context);
  const Index first1 = std::max<Index>(0, head.line1 - context);
  const Index last0 = std::min(length_of(a) - 1, tail.line0 + tail.deleted - 1 + context);
  const Index last1 = std::min(length_of(b) - 1, tail.line1 + tail.inserted - 1 + context);
  out += "@@ -" + hunk_range(first0, last0) + " +" + hunk_range(first1, last1) + " @@\n";
  Index i = first0, j = first1;
  for (std::size_t next = first; i <= last0 || j <= last1;) {
    if (next > last || i < changes[next].line0) {
      append_line(out, ' ', at(a, i++));
      ++j;
      continue;
    }
    for (Index n = 0; n < changes[next].deleted; ++n) append_line(out, '-', at(a, i++));
    for (Index n = 0; n < changes[next].inserted; ++n) append_line(out, '+', at(b, j++));
    ++next;
  }
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after,
                         const std::string& before_label, const std::string& after_label,
                         int context) {
  if (before == after) return {};
  const Index lines_around = std::max(context, 0);
  const Lines a = split_lines(before), b = split_lines(after);
  const std::vector<LineChange> changes = diff_lines(a, b, lines_around);
  std::string out = "--- " + before_label + "\n+++ " + after_label + "\n";
  for (std::size_t first = 0; first < changes.size();) {
    std::size_t last = first;
    // A gap of up to 2 * context unchanged lines is shown whole rather than split in two hunks.
    while (last + 1 < changes.size() &&
           changes[last + 1].line0 - (changes[last].line0 + changes[last].deleted) <=
               2 * lines_around)
      ++last;
    append_hunk(out, a, b, changes, first, last, lines_around);
    first = last + 1;
  }
  return out;
}

}  // namespace gns::util
