#pragma once
// The run lock: cloud-init and an operator (or twenty Ansible forks) must never interleave
// their changes to one host. An flock on /run/gpu-node-setup.lock under the root, held for
// the whole run and released by the kernel even if the process dies.

#include <chrono>
#include <string_view>

#include "../error.hpp"
#include "host_root.hpp"

namespace gns::host {

// Another run held the lock for longer than we were willing to wait.
class LockTimeout : public Error {
public:
  using Error::Error;
};

class HostLock {
public:
  static constexpr std::string_view k_path = "/run/gpu-node-setup.lock";

  // Takes the lock under `root`, waiting up to `timeout` for another run to finish.
  // Throws LockTimeout when it is still held then, Error when the lock file cannot be opened.
  HostLock(const HostRoot& root, std::chrono::milliseconds timeout);
  HostLock(const HostLock&) = delete;
  HostLock& operator=(const HostLock&) = delete;
  ~HostLock();

private:
  int m_fd = -1;
};

}  // namespace gns::host
