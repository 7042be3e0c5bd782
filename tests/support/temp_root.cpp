#include "temp_root.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gns::test {
namespace fs = std::filesystem;

TempRoot::TempRoot() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp ? tmp : "/tmp") + "/gns-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  m_path = fs::canonical(pattern);
}

TempRoot::~TempRoot() {
  std::error_code ec;
  fs::remove_all(m_path, ec);
}

fs::path TempRoot::operator/(std::string_view host_path) const {
  while (!host_path.empty() && host_path.front() == '/') host_path.remove_prefix(1);
  return m_path / host_path;
}

void TempRoot::write(std::string_view host_path, std::string_view bytes) const {
  fs::path file = *this / host_path;
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

void TempRoot::mkdir(std::string_view host_path) const { fs::create_directories(*this / host_path); }

void TempRoot::symlink(std::string_view target, std::string_view host_path) const {
  fs::path link = *this / host_path;
  fs::create_directories(link.parent_path());
  fs::create_symlink(fs::path(target), link);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

fs::path shared_fixture(std::string_view relative) {
  return fs::path(GNS_SHARED_FIXTURES_DIR) / relative;
}

fs::path test_fixture(std::string_view relative) {
  return fs::path(GNS_TEST_FIXTURES_DIR) / relative;
}

}  // namespace gns::test
