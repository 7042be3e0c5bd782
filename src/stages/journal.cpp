#include "journal.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "../error.hpp"
#include "../util/sha256.hpp"

namespace gns::stages {
namespace {

using json = nlohmann::ordered_json;
constexpr int k_journal_schema_version = 1;

std::string utc_now() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

template <class T>
json or_null(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

std::optional<std::string> optional_string(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  return value.get<std::string>();
}

json record_to_json(const StageRecord& record) {
  json files = json::array();
  for (const auto& file : record.files)
    files.push_back({{"path", file.path},
                     {"sha256_before", or_null(file.sha256_before)},
                     {"sha256_after", or_null(file.sha256_after)},
                     {"backup", or_null(file.backup)}});
  return {{"applied_at", record.applied_at},
          {"files", files},
          {"restarted", record.restarted},
          {"undo", json::parse(record.undo.dump())}};
}

StageRecord record_from_json(const nlohmann::json& value) {
  StageRecord record;
  record.applied_at = value.at("applied_at").get<std::string>();
  for (const auto& file : value.at("files"))
    record.files.push_back({file.at("path").get<std::string>(),
                            optional_string(file.at("sha256_before")),
                            optional_string(file.at("sha256_after")),
                            optional_string(file.at("backup"))});
  record.restarted = value.at("restarted").get<std::vector<std::string>>();
  record.undo = value.value("undo", nlohmann::json::object());
  return record;
}

}  // namespace

Journal Journal::load(const host::HostRoot& root) {
  Journal journal;
  auto text = root.read_if_exists(k_path);
  if (!text) return journal;
  try {
    auto document = nlohmann::ordered_json::parse(*text);
    if (document.at("schema_version").get<int>() != k_journal_schema_version)
      throw ConfigError(std::string(k_path), 0, 0, "journal schema version is not 1");
    for (const auto& [stage, value] : document.at("stages").items())
      journal.m_stages.emplace_back(stage, record_from_json(value));
    if (document.contains("pending_reboot")) {
      const auto& reboot = document["pending_reboot"];
      journal.m_reboot = PendingReboot{reboot.at("stage"), reboot.at("reason"),
                                       reboot.at("deferred"), reboot.at("requested_at"),
                                       std::nullopt};
      if (reboot.value("boot_id", json()).is_string()) journal.m_reboot->boot_id = reboot["boot_id"];
    }
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(std::string(k_path), 0, 0,
                      std::string("journal is damaged (") + e.what() +
                          "); it is what revert needs, so nothing was changed. The original "
                          "bytes of every file changed are in " + std::string(k_backup_dir) +
                          ", named by their sha256; move the journal aside to start afresh");
  }
  return journal;
}

const StageRecord* Journal::find(std::string_view stage) const {
  for (const auto& [name, record] : m_stages)
    if (name == stage) return &record;
  return nullptr;
}

StageRecord& Journal::entry(const std::string& stage) {
  for (auto& [name, record] : m_stages)
    if (name == stage) return record;
  m_stages.emplace_back(stage, StageRecord{utc_now(), {}, {}, nlohmann::json::object()});
  return m_stages.back().second;
}

void Journal::record_file(const host::HostRoot& root, const std::string& stage,
                          const std::string& path, const std::optional<std::string>& before,
                          const std::optional<std::string>& sha256_after) {
  StageRecord& record = entry(stage);
  auto known = std::find_if(record.files.begin(), record.files.end(),
                            [&](const FileRecord& file) { return file.path == path; });
  std::optional<std::string> before_sha;
  if (before) before_sha = util::sha256_hex(*before);
  if (known != record.files.end() && known->sha256_after == before_sha) {
    known->sha256_after = sha256_after;  // we change our own result again: keep the original
    return;
  }
  // New, or changed by someone since we wrote it: what this apply starts from is what revert
  // must give back, so their version is kept, not thrown away for ours from before.
  if (known != record.files.end()) record.files.erase(known);
  FileRecord file{path, std::nullopt, sha256_after, std::nullopt};
  if (before) {
    file.sha256_before = before_sha;
    file.backup = std::string(k_backup_dir) + "/" + *file.sha256_before;
    // Content-addressed: the same original saved twice is the same file.
    if (!root.exists(*file.backup)) root.write_atomic(*file.backup, *before, 0600);
  }
  record.files.push_back(std::move(file));
}

void Journal::record_restart(const std::string& stage, const std::string& service) {
  auto& restarted = entry(stage).restarted;
  if (std::find(restarted.begin(), restarted.end(), service) == restarted.end())
    restarted.push_back(service);
}

void Journal::record_undo(const std::string& stage, const nlohmann::json& undo) {
  StageRecord& record = entry(stage);
  for (const auto& [key, value] : undo.items())
    if (!record.undo.contains(key)) record.undo[key] = value;  // the first value is the original
}

void Journal::request_reboot(const std::string& stage, const std::string& reason,
                             const std::vector<std::string>& deferred,
                             const std::optional<std::string>& boot_id) {
  if (m_reboot && m_reboot->stage == stage && m_reboot->boot_id == boot_id) {
    m_reboot->reason = reason, m_reboot->deferred = deferred;  // the same request, still waiting
    return;
  }
  m_reboot = PendingReboot{stage, reason, deferred, utc_now(), boot_id};
}

void Journal::undefer(const std::vector<std::string>& stages) {
  if (!m_reboot) return;
  for (const auto& stage : stages) std::erase(m_reboot->deferred, stage);
}

void Journal::erase(const std::string& stage) {
  m_stages.erase(std::remove_if(m_stages.begin(), m_stages.end(),
                                [&](const auto& item) { return item.first == stage; }),
                 m_stages.end());
}

void Journal::save(const host::HostRoot& root) const {
  json stages = json::object();
  for (const auto& [name, record] : m_stages) stages[name] = record_to_json(record);
  json document = {{"schema_version", k_journal_schema_version}, {"stages", stages}};
  if (m_reboot)
    document["pending_reboot"] = {{"stage", m_reboot->stage},
                                  {"reason", m_reboot->reason},
                                  {"deferred", m_reboot->deferred},
                                  {"requested_at", m_reboot->requested_at},
                                  {"boot_id", m_reboot->boot_id ? json(*m_reboot->boot_id) : json(nullptr)}};
  root.write_atomic(k_path, document.dump(2) + "\n", 0600);
}

}  // namespace gns::stages
