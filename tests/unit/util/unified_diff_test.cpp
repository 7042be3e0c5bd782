#include "util/unified_diff.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host/host_root.hpp"
#include "host/runner.hpp"
#include "support/temp_root.hpp"

using gns::util::unified_diff;

// The exact outputs below were produced by GNU diffutils 3.8 (`diff -u --label A --label B`)
// and checked by hand. They are asserted only for changes that every shortest diff shows the
// same way; where several exist, the tests check the properties that any of them has.

namespace {

// The numbers of '-' and '+' lines in the hunks of unified diff `diff` (headers excluded).
std::pair<int, int> count_changed_lines(std::string_view diff) {
  std::pair<int, int> counts;
  for (int line = 0; !diff.empty(); ++line) {
    if (line >= 2 && diff.front() == '-') ++counts.first;
    if (line >= 2 && diff.front() == '+') ++counts.second;
    diff.remove_prefix(std::min(diff.find('\n'), diff.size() - 1) + 1);
  }
  return counts;
}

// GNU diff and patch, run on files in a scratch directory.
class DiffTools {
 public:
  DiffTools() : m_root("/"), m_runner(m_root, gns::null_log_sink()) {}

  // What `diff -u --label A --label B` prints for files holding `before` and `after`.
  gns::host::CommandResult gnu_diff(const std::string& before, const std::string& after) {
    m_tmp.write("/before", before);
    m_tmp.write("/after", after);
    return m_runner.run(
        {"diff", {"-u", "--label", "A", "--label", "B", path("/before"), path("/after")}});
  }

  // `before` patched with `diff` by GNU patch; throws CommandFailed when patch rejects it.
  std::string patched(const std::string& before, const std::string& diff) {
    m_tmp.write("/before", before);
    m_tmp.write("/ours.diff", diff);
    m_runner.run_checked(
        {"patch", {"--silent", "-o", path("/patched"), path("/before"), path("/ours.diff")}});
    return gns::test::read_file(path("/patched"));
  }

 private:
  std::string path(std::string_view name) const { return (m_tmp / name).string(); }

  gns::test::TempRoot m_tmp;
  gns::host::HostRoot m_root;
  gns::host::ProcessRunner m_runner;
};

}  // namespace

TEST_CASE("unified diff of equal texts is empty", "[util]") {
  CHECK(unified_diff("", "", "A", "B").empty());
  CHECK(unified_diff("a\nb", "a\nb", "A", "B").empty());
}

TEST_CASE("unified diff shows three lines of context, clipped at the file's ends", "[util]") {
  CHECK(unified_diff("l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n",
                     "l1\nl2\nl3\nl4\nl5\nL6\nl7\nl8\nl9\nl10\n", "A", "B") ==
        "--- A\n+++ B\n@@ -3,7 +3,7 @@\n l3\n l4\n l5\n-l6\n+L6\n l7\n l8\n l9\n");
  CHECK(unified_diff("x\n", "y\n", "A", "B") == "--- A\n+++ B\n@@ -1 +1 @@\n-x\n+y\n");
}

TEST_CASE("unified diff numbers an empty side as the line before it, with count 0", "[util]") {
  CHECK(unified_diff("", "a\nb\n", "/dev/null", "/etc/x.conf") ==
        "--- /dev/null\n+++ /etc/x.conf\n@@ -0,0 +1,2 @@\n+a\n+b\n");
  CHECK(unified_diff("a\nb\n", "", "A", "B") == "--- A\n+++ B\n@@ -1,2 +0,0 @@\n-a\n-b\n");
  CHECK(unified_diff("1\n2\n3\n4\n5\n", "1\n2\n2a\n3\n4\n5\n", "A", "B", 0) ==
        "--- A\n+++ B\n@@ -2,0 +3 @@\n+2a\n");
  CHECK(unified_diff("1\n2\n3\n4\n5\n", "1\n2\n2a\n3\n4\n5\n", "A", "B", -4) ==
        unified_diff("1\n2\n3\n4\n5\n", "1\n2\n2a\n3\n4\n5\n", "A", "B", 0));
  CHECK(unified_diff("1\n2\n3\n4\n5\n", "1\n2\n2a\n3\n4\n5\n", "A", "B", 1) ==
        "--- A\n+++ B\n@@ -2,2 +2,3 @@\n 2\n+2a\n 3\n");
}

TEST_CASE("unified diff marks a last line without a newline", "[util]") {
  CHECK(unified_diff("a\nb", "a\nc", "A", "B") ==
        "--- A\n+++ B\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
        "\\ No newline at end of file\n");
  // Only the newline differs: the line is removed and added back without it.
  CHECK(unified_diff("a\n", "a", "A", "B") ==
        "--- A\n+++ B\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n");
  // A '\r' belongs to the line, so CRLF and LF versions of a line differ.
  CHECK(unified_diff("1\r\n2\r\n3\r\n", "1\r\n2\n3\r\n", "A", "B") ==
        "--- A\n+++ B\n@@ -1,3 +1,3 @@\n 1\r\n-2\r\n+2\n 3\r\n");
}

TEST_CASE("unified diff merges hunks at most 2 * context lines apart", "[util]") {
  // Six unchanged lines between the changes: one hunk.
  CHECK(unified_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\nX\n3\n4\n5\n6\n7\n8\nY\n", "A", "B") ==
        "--- A\n+++ B\n@@ -1,9 +1,9 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n 7\n 8\n-9\n+Y\n");
  // Seven: two hunks.
  CHECK(
      unified_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\nX\n3\n4\n5\n6\n7\n8\n9\nY\n", "A", "B") ==
      "--- A\n+++ B\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n"
      "-10\n+Y\n");
}

TEST_CASE("unified diff shows an ambiguous change as a shortest diff that patch applies",
          "[util]") {
  struct Case {
    std::string before, after;
    std::pair<int, int> changed_lines;
  };
  DiffTools tools;
  for (const Case& c : {Case{"a\nb\n", "b\na\n", {1, 1}}, Case{"x\nx\nx\n", "x\nx\n", {1, 0}},
                        Case{"}\n}\n\n}\n", "\n}\n}\n\n", {1, 1}},
                        Case{"[a]\nx = 1\n\n[c]\n", "[a]\nx = 1\n\n[b]\ny = 2\n\n[c]\n", {0, 3}}}) {
    const std::string diff = unified_diff(c.before, c.after, "A", "B");
    INFO("before:\n" << c.before << "after:\n" << c.after << "diff:\n" << diff);
    CHECK(count_changed_lines(diff) == c.changed_lines);
    CHECK(tools.patched(c.before, diff) == c.after);
  }
}

// ---- Oracle: GNU diff itself -------------------------------------------------------------

namespace {

// A text as lines without their '\n' (a CRLF line keeps its '\r'), and whether the last line
// ends with '\n'.
struct Text {
  std::vector<std::string> lines;
  bool final_newline = true;

  std::string render() const {
    std::string bytes;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      bytes += lines[i];
      if (i + 1 < lines.size() || final_newline) bytes += '\n';
    }
    return bytes;
  }
};

class TextGenerator {
 public:
  explicit TextGenerator(unsigned seed) : m_rng(seed) {}

  int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(m_rng); }

  // Mostly settings, some of them repeated, plus the blank lines and closing brackets that
  // recur in real configs and make several alignments equally short.
  std::string line() {
    switch (pick(0, 9)) {
      case 0: return "";
      case 1: return "}";
      case 2: return "[plugins.\"io.containerd.grpc.v1.cri\"]";
      default: return "key_" + std::to_string(pick(0, 40)) + " = " + std::to_string(pick(0, 9));
    }
  }

  Text text(int max_lines) {
    Text text;
    const int count = pick(1, max_lines);
    for (int i = 0; i < count; ++i) text.lines.push_back(line());
    if (pick(0, 5) == 0) text.lines[index(text)] += '\r';
    text.final_newline = pick(0, 3) != 0;
    return text;
  }

  // `text` after a few random small edits.
  Text edited(Text text) {
    for (int edits = pick(1, 4); edits > 0; --edits) edit(text);
    return text;
  }

 private:
  std::size_t index(const Text& text, std::size_t extra = 0) {
    return static_cast<std::size_t>(pick(0, static_cast<int>(text.lines.size() + extra) - 1));
  }

  void edit(Text& text) {
    auto& lines = text.lines;
    const auto at = [&](std::size_t i) { return lines.begin() + static_cast<std::ptrdiff_t>(i); };
    const int kind = lines.empty() ? 0 : pick(0, 6);
    if (kind == 0) {
      const std::size_t where = index(text, 1);
      for (int n = pick(1, 3); n > 0; --n) lines.insert(at(where), line());
    } else if (kind == 1) {
      const std::size_t from = index(text);
      lines.erase(at(from),
                  at(std::min(lines.size(), from + static_cast<std::size_t>(pick(1, 3)))));
    } else if (kind == 2) {
      lines[index(text)] = line();
    } else if (kind == 3) {
      const std::string copy = lines[index(text)];
      lines.insert(at(index(text, 1)), copy);
    } else if (kind == 4) {
      const std::size_t from = index(text);
      const std::string moved = lines[from];
      lines.erase(at(from));
      lines.insert(at(index(text, 1)), moved);
    } else if (kind == 5) {
      std::string& changed = lines[index(text)];
      if (!changed.empty() && changed.back() == '\r')
        changed.pop_back();
      else
        changed += '\r';
    } else {
      text.final_newline = !text.final_newline;
    }
  }

  std::mt19937 m_rng;
};

// Case `n` of the oracle run: mostly edits of one text, and a few with an empty side.
std::pair<std::string, std::string> oracle_pair(TextGenerator& gen, int n) {
  if (n % 10 == 0) return {"", gen.text(12).render()};
  if (n % 10 == 1) return {gen.text(12).render(), ""};
  const Text before = gen.text(n % 3 == 0 ? 8 : 60);
  return {before.render(), gen.edited(before).render()};
}

}  // namespace

TEST_CASE("unified diff is as short as GNU diff -u and patch applies it", "[util]") {
  DiffTools tools;
  TextGenerator gen(4242);
  int same_as_gnu = 0;
  for (int n = 0; n < 40; ++n) {
    const auto [before, after] = oracle_pair(gen, n);
    const std::string ours = unified_diff(before, after, "A", "B");
    const gns::host::CommandResult gnu = tools.gnu_diff(before, after);
    INFO("case " << n << "\n--- before:\n"
                 << before << "\n--- after:\n"
                 << after << "\n--- ours:\n"
                 << ours << "\n--- GNU diff:\n"
                 << gnu.out);
    REQUIRE(gnu.exit_status == (before == after ? 0 : 1));
    // On inputs this small GNU diff finds a shortest diff, as we always do: the two remove and
    // add as many lines, if not always the same ones.
    CHECK(count_changed_lines(ours) == count_changed_lines(gnu.out));
    if (before == after)
      CHECK(ours.empty());
    else
      CHECK(tools.patched(before, ours) == after);
    if (ours == gnu.out) ++same_as_gnu;
  }
  WARN(same_as_gnu << " of 40 diffs are byte-identical to GNU diff -u");
}
