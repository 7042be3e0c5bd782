#pragma once
// HostRoot: the one door to the host's files (DESIGN.md "The host boundary"). Code names
// host paths ("/etc/containerd/config.toml"); HostRoot resolves them under the root given
// by --root, following symlinks *inside* that root, so a DaemonSet pointed at /host, or a
// test pointed at a temp dir, can never read or write outside it.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gns::host {

class HostRoot {
public:
  // `root` must be an existing directory; "/" means the running system.
  // Throws Error when it does not exist or is not a directory.
  explicit HostRoot(const std::filesystem::path& root);

  // The root directory, absolute and without symlinks.
  const std::filesystem::path& root() const noexcept { return m_root; }

  // True when the root is "/" (the tool acts on the machine it runs on).
  bool is_system_root() const noexcept { return m_root == "/"; }

  // Maps the absolute host path `host_path` to the real path under the root. Symlinks are
  // followed inside the root: an absolute link target is taken relative to the root, and
  // ".." never climbs above it. Components that do not exist are kept as written.
  // Throws Error when `host_path` is not absolute or symlinks loop.
  std::filesystem::path resolve(std::string_view host_path) const;

  // The bytes of the file at `host_path`, or nullopt when it does not exist.
  // Throws Error when it exists but cannot be read (permissions, a directory, I/O).
  std::optional<std::string> read_if_exists(std::string_view host_path) const;

  // At most the first `max_bytes` bytes of the file at `host_path` (a 300 MB installer's
  // header), or nullopt when it does not exist; throws as read_if_exists does.
  std::optional<std::string> read_head_if_exists(std::string_view host_path, size_t max_bytes) const;

  // The bytes of the file at `host_path`. Throws Error when it is missing or unreadable.
  std::string read(std::string_view host_path) const;

  // True when something exists at `host_path` (after resolving symlinks inside the root).
  bool exists(std::string_view host_path) const;

  // True when `host_path` is a directory.
  bool is_directory(std::string_view host_path) const;

  // True when `host_path` is a regular file with an execute bit set.
  bool is_executable(std::string_view host_path) const;

  // The names in directory `host_path`, sorted; empty when the directory does not exist.
  // Throws Error when it exists but cannot be listed.
  std::vector<std::string> list(std::string_view host_path) const;

  // Replaces the file at `host_path` with `bytes` atomically: a temp file beside the
  // target is written, fsynced, given the old file's mode and owner (or `new_file_mode`
  // for a new file), renamed over the target, and the directory is fsynced. Readers see
  // the old bytes or the new, never a mix; a failed write leaves the old file and no
  // temp file behind. Missing parent directories are created (mode 0755).
  // Throws Error on any failure.
  void write_atomic(std::string_view host_path, std::string_view bytes,
                    mode_t new_file_mode = 0644) const;

  // Removes the file `host_path` resolves to (as write_atomic writes it); nothing when it is
  // absent. Throws Error when it cannot be removed.
  void remove(std::string_view host_path) const;

  // The host path of the executable `name` in the standard program directories
  // (/usr/local/sbin ... /bin) inside the root; nullopt when none has it.
  std::optional<std::string> find_executable(std::string_view name) const;

  // The running kernel's release: /proc/sys/kernel/osrelease under the root when it is
  // mounted there, else uname(2), since every root on this machine shares its kernel.
  std::string kernel_release() const;

  // The CPU architecture as uname(2) names it ("x86_64", "aarch64"): every root on this
  // machine runs on it.
  std::string machine() const;

private:
  std::filesystem::path m_root;
};

}  // namespace gns::host
