#pragma once
// TempRoot: a scratch directory that stands in for a host's root, removed afterwards.

#include <filesystem>
#include <string>
#include <string_view>

namespace gns::test {

class TempRoot {
public:
  // Creates an empty directory under $TMPDIR (or /tmp).
  TempRoot();
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;
  ~TempRoot();

  const std::filesystem::path& path() const { return m_path; }
  // The real path of host path `host_path` ("/etc/x" -> <root>/etc/x).
  std::filesystem::path operator/(std::string_view host_path) const;
  // Writes `bytes` to host path `host_path`, creating parent directories.
  void write(std::string_view host_path, std::string_view bytes) const;
  // Creates directory `host_path` and its parents.
  void mkdir(std::string_view host_path) const;
  // Creates a symlink at host path `host_path` whose target is `target`, as written.
  void symlink(std::string_view target, std::string_view host_path) const;

private:
  std::filesystem::path m_path;
};

// The bytes of the file at `path` (a real path); throws when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// The path of `relative` under ../shared/fixtures.
std::filesystem::path shared_fixture(std::string_view relative);

// The path of `relative` under tests/fixtures.
std::filesystem::path test_fixture(std::string_view relative);

}  // namespace gns::test
