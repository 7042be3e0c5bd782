#include "host_root.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "../error.hpp"

namespace gns::host {
namespace fs = std::filesystem;

namespace {

// Where programs live on every distribution we support, in PATH order.
constexpr const char* k_program_dirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                          "/usr/bin",        "/sbin",           "/bin"};

// Linux's own limit on symlinks followed in one lookup (MAXSYMLINKS).
constexpr int k_max_symlink_hops = 40;

std::string errno_text(int err) { return std::strerror(err); }

std::deque<std::string> split_components(std::string_view path) {
  std::deque<std::string> parts;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    if (next > pos) parts.emplace_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return parts;
}

fs::path join_under(const fs::path& root, const std::vector<std::string>& parts) {
  fs::path result = root;
  for (const auto& part : parts) result /= part;
  return result;
}

// Closes a file descriptor on scope exit.
class FdGuard {
public:
  explicit FdGuard(int fd) : m_fd(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() {
    if (m_fd >= 0) ::close(m_fd);
  }
  int get() const { return m_fd; }

private:
  int m_fd;
};

// Removes the temp file of an abandoned atomic write.
class TempFileGuard {
public:
  explicit TempFileGuard(fs::path path) : m_path(std::move(path)) {}
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  ~TempFileGuard() {
    if (!m_path.empty()) ::unlink(m_path.c_str());
  }
  void release() { m_path.clear(); }

private:
  fs::path m_path;
};

void write_all(int fd, std::string_view bytes, const fs::path& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error("cannot write " + path.string() + ": " + errno_text(errno));
    done += static_cast<size_t>(n);
  }
}

void fsync_directory(const fs::path& dir) {
  FdGuard fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0)
    throw Error("cannot sync directory " + dir.string() + ": " + errno_text(errno));
}

// A run killed mid-write (power cut, SIGKILL) leaves its temp file beside the target; the
// next write of that target removes it, so the directory converges too. Drop-in directories
// matter: some runtimes read every file in them, hidden ones included.
void remove_stale_temp_files(const fs::path& dir, const std::string& temp_prefix) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == temp_prefix.size() + 6 && name.rfind(temp_prefix, 0) == 0)
      fs::remove(entry.path(), ec);
  }
}

#ifdef GNS_FAULT_INJECTION
// Test builds only (cmake -DGNS_FAULT_INJECTION=ON): GNS_CRASH_AT_WRITE=N stops the process
// dead just before the Nth rename, as a power cut would, to prove every run converges.
void crash_if_asked() {
  static int writes = 0;
  const char* crash_at = std::getenv("GNS_CRASH_AT_WRITE");
  if (crash_at != nullptr && ++writes == std::atoi(crash_at)) ::_exit(86);  // the simulated crash
}
#endif

void make_directories(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create directory " + dir.string() + ": " + ec.message());
}

}  // namespace

HostRoot::HostRoot(const fs::path& root) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root, ec);
  if (ec) throw Error("root directory " + root.string() + ": " + ec.message());
  if (!fs::is_directory(canonical))
    throw Error("root directory " + root.string() + " is not a directory");
  m_root = canonical;
}

fs::path HostRoot::resolve(std::string_view host_path) const {
  if (host_path.empty() || host_path.front() != '/')
    throw Error("internal: host path must be absolute: '" + std::string(host_path) + "'");
  std::deque<std::string> pending = split_components(host_path);
  std::vector<std::string> resolved;
  int hops = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!resolved.empty()) resolved.pop_back();  // ".." at the root stays at the root
      continue;
    }
    resolved.push_back(part);
    fs::path real = join_under(m_root, resolved);
    struct stat st {};
    if (::lstat(real.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
    if (++hops > k_max_symlink_hops)
      throw Error("too many levels of symlinks resolving " + std::string(host_path) + " under " +
                  m_root.string());
    std::error_code ec;
    fs::path target = fs::read_symlink(real, ec);
    if (ec) throw Error("cannot read symlink " + real.string() + ": " + ec.message());
    resolved.pop_back();
    // The target replaces the link: absolute targets restart at the root, relative ones
    // continue from the link's directory.
    if (target.is_absolute()) resolved.clear();
    auto target_parts = split_components(target.string());
    pending.insert(pending.begin(), target_parts.begin(), target_parts.end());
  }
  return join_under(m_root, resolved);
}

std::optional<std::string> HostRoot::read_if_exists(std::string_view host_path) const {
  return read_head_if_exists(host_path, std::string::npos);
}

std::optional<std::string> HostRoot::read_head_if_exists(std::string_view host_path,
                                                         size_t max_bytes) const {
  fs::path real = resolve(host_path);
  FdGuard fd(::open(real.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw Error("cannot read " + real.string() + ": " + errno_text(errno));
  }
  std::string bytes;
  char buffer[65536];
  while (bytes.size() < max_bytes) {
    ssize_t n = ::read(fd.get(), buffer, std::min(sizeof buffer, max_bytes - bytes.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error("cannot read " + real.string() + ": " + errno_text(errno));
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  return bytes;
}

std::string HostRoot::read(std::string_view host_path) const {
  auto bytes = read_if_exists(host_path);
  if (!bytes) throw Error("cannot read " + resolve(host_path).string() + ": no such file");
  return *bytes;
}

bool HostRoot::exists(std::string_view host_path) const {
  struct stat st {};
  return ::stat(resolve(host_path).c_str(), &st) == 0;
}

bool HostRoot::is_directory(std::string_view host_path) const {
  struct stat st {};
  return ::stat(resolve(host_path).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool HostRoot::is_executable(std::string_view host_path) const {
  struct stat st {};
  return ::stat(resolve(host_path).c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         (st.st_mode & 0111) != 0;
}

std::vector<std::string> HostRoot::list(std::string_view host_path) const {
  fs::path real = resolve(host_path);
  DIR* dir = ::opendir(real.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return {};
    throw Error("cannot list " + real.string() + ": " + errno_text(errno));
  }
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

void HostRoot::write_atomic(std::string_view host_path, std::string_view bytes,
                            mode_t new_file_mode) const {
  fs::path target = resolve(host_path);
  fs::path dir = target.parent_path();
  make_directories(dir);

  struct stat old {};
  bool replacing = ::stat(target.c_str(), &old) == 0;

  const std::string temp_prefix = "." + target.filename().string() + ".gns-";
  remove_stale_temp_files(dir, temp_prefix);
  std::string temp_name = (dir / (temp_prefix + "XXXXXX")).string();
  FdGuard fd(::mkostemp(temp_name.data(), O_CLOEXEC));
  if (fd.get() < 0) throw Error("cannot create a temp file in " + dir.string() + ": " + errno_text(errno));
  TempFileGuard temp(temp_name);

  write_all(fd.get(), bytes, temp_name);
  mode_t mode = replacing ? (old.st_mode & 07777) : new_file_mode;
  if (::fchmod(fd.get(), mode) != 0)
    throw Error("cannot set mode of " + temp_name + ": " + errno_text(errno));
  // Keeping the owner needs root; a non-root user can only own what it writes anyway.
  if (replacing && ::fchown(fd.get(), old.st_uid, old.st_gid) != 0 && errno != EPERM)
    throw Error("cannot set owner of " + temp_name + ": " + errno_text(errno));
  if (::fsync(fd.get()) != 0) throw Error("cannot sync " + temp_name + ": " + errno_text(errno));
#ifdef GNS_FAULT_INJECTION
  crash_if_asked();
#endif
  if (::rename(temp_name.c_str(), target.c_str()) != 0)
    throw Error("cannot replace " + target.string() + ": " + errno_text(errno));
  temp.release();
  fsync_directory(dir);
}

void HostRoot::remove(std::string_view host_path) const {
  fs::path real = resolve(host_path);
  if (::unlink(real.c_str()) != 0 && errno != ENOENT)
    throw Error("cannot remove " + real.string() + ": " + errno_text(errno));
}

std::optional<std::string> HostRoot::find_executable(std::string_view name) const {
  for (const char* dir : k_program_dirs) {
    std::string candidate = std::string(dir) + "/" + std::string(name);
    if (is_executable(candidate)) return candidate;
  }
  return std::nullopt;
}

std::string HostRoot::kernel_release() const {
  if (auto text = read_if_exists("/proc/sys/kernel/osrelease")) {
    while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
    if (!text->empty()) return *text;
  }
  struct utsname names {};
  if (::uname(&names) != 0) throw Error("uname failed: " + errno_text(errno));
  return names.release;
}

std::string HostRoot::machine() const {
  struct utsname names {};
  if (::uname(&names) != 0) throw Error("uname failed: " + errno_text(errno));
  return names.machine;
}

}  // namespace gns::host
