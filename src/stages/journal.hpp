#pragma once
// The journal (/var/lib/gpu-node-setup/journal.json under the root): for every stage applied,
// each file it changed (path, sha256 before and after, where the original bytes are kept, or
// that it was absent), the services it restarted, and the stage's own undo data. With the
// backups beside it, it is what makes every change reversible.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../host/host_root.hpp"

namespace gns::stages {

struct FileRecord {
  std::string path;
  std::optional<std::string> sha256_before;  // nullopt: the file was absent
  std::optional<std::string> sha256_after;   // nullopt: apply removed it
  std::optional<std::string> backup;         // host path of the original bytes
};

struct StageRecord {
  std::string applied_at;                 // UTC, ISO 8601
  std::vector<FileRecord> files;          // in the order they were first changed
  std::vector<std::string> restarted;     // services restarted
  nlohmann::json undo = nlohmann::json::object();
};

// A reboot an apply asked for and has not seen happen yet: the stage that needs it, why, and
// the stages apply left for after it.
struct PendingReboot {
  std::string stage;
  std::string reason;
  std::vector<std::string> deferred;
  std::string requested_at;  // UTC, ISO 8601
  // The kernel's boot id when it was asked for (/proc/sys/kernel/random/boot_id), so the next
  // apply can tell whether the host has rebooted since; nullopt where it could not be read.
  std::optional<std::string> boot_id;

  bool operator==(const PendingReboot&) const = default;
};

class Journal {
public:
  static constexpr std::string_view k_path = "/var/lib/gpu-node-setup/journal.json";
  static constexpr std::string_view k_backup_dir = "/var/lib/gpu-node-setup/backups";

  // Reads the journal under `root`; an absent journal is empty.
  // Throws ConfigError when it exists but is not a journal this version understands.
  static Journal load(const host::HostRoot& root);

  // The record of `stage`, or nullopt when it is not applied.
  const StageRecord* find(std::string_view stage) const;

  // Records that `stage` changed `path` from `before` (nullopt: absent) to bytes hashing to
  // `sha256_after`, saving `before` in the backups (content-addressed). When `before` is what
  // the stage itself last wrote there, only sha256_after moves, so revert returns to the start;
  // when someone changed the file since, their version becomes what revert restores.
  void record_file(const host::HostRoot& root, const std::string& stage, const std::string& path,
                   const std::optional<std::string>& before,
                   const std::optional<std::string>& sha256_after);

  // Records that `stage` restarted `service`, and merges `undo` into its undo data.
  void record_restart(const std::string& stage, const std::string& service);
  void record_undo(const std::string& stage, const nlohmann::json& undo);

  // The reboot the last apply asked for, if it still waits; set or cleared by each apply.
  const std::optional<PendingReboot>& pending_reboot() const { return m_reboot; }
  // Records that `stage` needs a reboot for `reason`, leaving `deferred` for after it; keeps
  // the time of the first request while the same stage still asks.
  void request_reboot(const std::string& stage, const std::string& reason,
                      const std::vector<std::string>& deferred,
                      const std::optional<std::string>& boot_id);
  // Takes `stages` out of the pending reboot's deferred list (applied without it).
  void undefer(const std::vector<std::string>& stages);
  void clear_pending_reboot() { m_reboot.reset(); }

  // Forgets `stage` (after a revert).
  void erase(const std::string& stage);

  // Writes the journal atomically. Throws Error when it cannot.
  void save(const host::HostRoot& root) const;

private:
  StageRecord& entry(const std::string& stage);

  std::vector<std::pair<std::string, StageRecord>> m_stages;  // in the order applied
  std::optional<PendingReboot> m_reboot;
};

}  // namespace gns::stages
