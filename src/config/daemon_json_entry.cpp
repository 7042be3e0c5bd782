#include "daemon_json_entry.hpp"

#include <optional>
#include <string_view>

#include "../error.hpp"

namespace gns::config {

std::string_view to_string(DockerEntryChange change) {
  switch (change) {
    case DockerEntryChange::added: return "added";
    case DockerEntryChange::kept: return "kept";
    case DockerEntryChange::path_set: break;
  }
  return "path_set";
}

std::optional<DockerEntryChange> parse_docker_entry_change(std::string_view word) {
  for (auto change :
       {DockerEntryChange::added, DockerEntryChange::kept, DockerEntryChange::path_set})
    if (to_string(change) == word) return change;
  return std::nullopt;
}

}  // namespace gns::config

namespace gns::config::daemon_json_entry {
namespace {

// Equal as JSON means it: member order aside, which the journal's record does not keep.
bool same_value(const Json& a, const Json& b) {
  return nlohmann::json::parse(a.dump()) == nlohmann::json::parse(b.dump());
}

// Whether `entry` has member `key` with something in it: absent, null, "" and {} are unset
// to dockerd.
bool is_set(const Json& entry, const char* key) {
  if (!entry.contains(key)) return false;
  const Json& value = entry[key];
  if (value.is_string()) return !value.get_ref<const std::string&>().empty();
  return !value.is_null() && !(value.is_structured() && value.empty());
}

// dockerd refuses an entry that has both a "path" and a containerd shim ("runtimeType", with
// its "options"): setting our path in such an entry would stop dockerd from starting.
void require_path_runtime(const Json& entry, const DockerRuntimeSettings& s,
                          const std::string& path) {
  for (const char* key : {"runtimeType", "options"})
    if (is_set(entry, key))
      throw Error(path + ": runtimes." + s.runtime_name + " is a containerd shim runtime (\"" +
                  key + "\": " + entry[key].dump() +
                  "), which dockerd cannot also give a \"path\"; it is not ours to change: name "
                  "ours with --runtime-name");
}

}  // namespace

Json wanted(const DockerRuntimeSettings& s) {
  if (s.runtime_entry) return *s.runtime_entry;
  Json entry = Json::object();
  entry["path"] = s.runtime_path;
  entry["args"] = Json::array();
  return entry;
}

bool is_ours(const Json& entry, const std::string& runtime_path) {
  return entry.is_object() && entry.contains("path") && entry["path"] == runtime_path;
}

DockerEntryEdit plan(const Json& doc, const DockerRuntimeSettings& s, const std::string& path) {
  DockerEntryEdit e;
  if (!doc.contains("runtimes") || !doc["runtimes"].contains(s.runtime_name)) return e;
  const Json& entry = doc["runtimes"][s.runtime_name];
  if (is_ours(entry, s.runtime_path)) {
    e.change = DockerEntryChange::kept;
    return e;
  }
  require_path_runtime(entry, s, path);
  e.change = DockerEntryChange::path_set;
  e.path_written = s.runtime_path;
  if (entry.contains("path")) e.previous_path = entry["path"];
  const Json template_entry = wanted(s);
  for (const auto& [key, value] : template_entry.items())
    if (key != "path" && !entry.contains(key)) e.added_members[key] = value;
  return e;
}

void set_path(Json& entry, const DockerEntryEdit& e) {
  entry["path"] = e.path_written;
  for (const auto& [key, value] : e.added_members.items()) entry[key] = value;
}

// Rescanned after each splice: every offset after the one changed has moved.
void splice_set_path(std::string& text, std::size_t open, const DockerEntryEdit& e,
                     const splice::Format& f) {
  splice::set_member(text, splice::scan_object(text, open), "path", e.path_written, f);
  for (const auto& [key, value] : e.added_members.items())
    splice::insert_member(text, splice::scan_object(text, open), key, value, f);
}

void restore(Json& entry, const DockerEntryEdit& e) {
  for (const auto& [key, value] : e.added_members.items())
    if (entry.contains(key) && same_value(entry[key], value)) entry.erase(key);
  if (e.previous_path)
    entry["path"] = *e.previous_path;
  else
    entry.erase("path");
}

void splice_restore(std::string& text, std::size_t open, const DockerEntryEdit& e,
                    const splice::Format& f) {
  for (const auto& [key, value] : e.added_members.items()) {
    const splice::Object fields = splice::scan_object(text, open);
    const auto i = fields.index_of(key);
    if (i && same_value(splice::value_of(text, fields.members[*i]), value))
      splice::erase_member(text, fields, *i);
  }
  const splice::Object fields = splice::scan_object(text, open);
  if (e.previous_path)
    splice::set_member(text, fields, "path", *e.previous_path, f);
  else if (const auto i = fields.index_of("path"))
    splice::erase_member(text, fields, *i);
}

}  // namespace gns::config::daemon_json_entry
