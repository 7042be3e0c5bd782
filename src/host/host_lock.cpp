#include "host_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

namespace gns::host {

HostLock::HostLock(const HostRoot& root, std::chrono::milliseconds timeout) {
  const auto path = root.resolve(k_path);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (m_fd < 0) throw Error("cannot open lock file " + path.string() + ": " + std::strerror(errno));

  // Polling with LOCK_NB keeps the wait bounded without signals or threads.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int err = errno;
      ::close(m_fd);
      throw Error("cannot lock " + path.string() + ": " + std::strerror(err));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(m_fd);
      throw LockTimeout("another gpu-node-setup run holds " + path.string() + " (waited " +
                        std::to_string(timeout.count()) + " ms; --lock-timeout waits longer)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

HostLock::~HostLock() {
  if (m_fd >= 0) ::close(m_fd);  // closing releases the flock
}

}  // namespace gns::host
