#include "daemon_json.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <string>

#include "../error.hpp"
#include "json_splice.hpp"

// nlohmann validates the file and says what it means; json_splice finds where each member sits,
// so that an edit is a splice of a few bytes and the rest of the user's file is never
// re-serialised. Each edit is computed twice, on the meaning and on the bytes, and the two must
// agree before anything is returned.

namespace gns::config {
namespace {

using splice::Json;
using splice::Member;
using splice::Object;

[[noreturn]] void fail_at(std::string_view text, std::size_t offset, const std::string& path,
                          const std::string& message) {
  const splice::LineColumn at = splice::line_column(text, offset);
  throw ConfigError(path, at.line, at.column, message);
}

// nlohmann reports the offset of the last character it read; for a bad bare word (`nv` of a
// stray `nvidia`, `//` of a comment) point at the word's start, as python's json module does.
std::size_t error_offset(std::string_view text, std::size_t byte, std::string_view what) {
  std::size_t at = std::min(byte == 0 ? 0 : byte - 1, text.size());
  if (what.find("invalid literal") == std::string_view::npos) return at;
  while (at > 0 && std::isalpha(static_cast<unsigned char>(text[at - 1]))) --at;
  while (at < text.size() && splice::is_space(text[at])) ++at;
  return at;
}

Json parse_json(std::string_view text, const std::string& path) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    std::string_view what = e.what();
    const std::size_t at = error_offset(text, e.byte, what);
    if (at < text.size() && text[at] == '\0')
      fail_at(text, at, path, "not valid JSON: a NUL byte (is this a binary file?)");
    // Drop nlohmann's "[json.exception...] parse error at line L, column C: "; ours is in front.
    if (auto colon = what.find(": "); what.starts_with("[json.") && colon != what.npos)
      what.remove_prefix(colon + 2);
    fail_at(text, at, path, "not valid JSON: " + std::string(what));
  }
}

// Keys twice in an object we edit are ambiguous (dockerd's Go decoder silently takes the last);
// deeper duplicates are the user's business and pass through untouched.
void require_unique_keys(std::string_view text, const Object& object, const std::string& path) {
  for (std::size_t i = 1; i < object.members.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (object.members[i].key == object.members[j].key)
        fail_at(text, object.members[i].key_begin, path,
                "duplicate key \"" + object.members[i].key + "\" (first on line " +
                    std::to_string(splice::line_column(text, object.members[j].key_begin).line) +
                    "); keep only one");
}

void require_object_member(std::string_view text, const Object& top, const Json& doc,
                           const std::string& key, const std::string& path) {
  const Member* m = top.find(key);
  if (!m) return;
  if (!doc[key].is_object())
    fail_at(text, m->value_begin, path,
            "\"" + key + "\" must be a JSON object, not " + std::string(doc[key].type_name()));
  require_unique_keys(text, splice::scan_object(text, m->value_begin), path);
}

Json load(std::string_view text, const std::string& path) {
  if (splice::is_blank(text)) return Json::object();
  Json doc = parse_json(text, path);
  if (!doc.is_object())
    fail_at(text, splice::top_start(text), path,
            "daemon.json must be a JSON object ({ ... }), not " + std::string(doc.type_name()));
  const Object top = splice::scan_top(text);
  require_unique_keys(text, top, path);
  require_object_member(text, top, doc, "runtimes", path);
  require_object_member(text, top, doc, "features", path);
  if (const Member* m = top.find("default-runtime"); m && !doc["default-runtime"].is_string())
    fail_at(text, m->value_begin, path,
            "\"default-runtime\" must be a string (a runtime's name), not " +
                std::string(doc["default-runtime"].type_name()));
  return doc;
}

// ---- the two edits, on the meaning (to check against) and on the bytes ------------------------

Json wanted_entry(const DockerRuntimeSettings& s) {
  Json entry = Json::object();
  entry["path"] = s.runtime_path;
  entry["args"] = Json::array();
  return entry;
}

bool entry_is_ours(const Json& entry, const std::string& runtime_path) {
  return entry.is_object() && entry.contains("path") && entry["path"] == runtime_path;
}

Json configured(Json doc, const DockerRuntimeSettings& s) {
  Json& runtimes = doc["runtimes"];
  if (!runtimes.contains(s.runtime_name) ||
      !entry_is_ours(runtimes[s.runtime_name], s.runtime_path))
    runtimes[s.runtime_name] = wanted_entry(s);
  if (s.set_as_default) doc["default-runtime"] = s.runtime_name;
  if (s.enable_cdi) doc["features"]["cdi"] = true;
  return doc;
}

void splice_runtime(std::string& text, const DockerRuntimeSettings& s, const splice::Format& f) {
  const Object top = splice::scan_top(text);
  const Member* runtimes = top.find("runtimes");
  if (!runtimes) {
    Json value = Json::object();
    value[s.runtime_name] = wanted_entry(s);
    splice::insert_member(text, top, "runtimes", value, f);
    return;
  }
  const Object inner = splice::scan_object(text, runtimes->value_begin);
  const Member* entry = inner.find(s.runtime_name);
  if (!entry)
    splice::insert_member(text, inner, s.runtime_name, wanted_entry(s), f);
  else if (!entry_is_ours(splice::value_of(text, *entry), s.runtime_path))
    splice::replace_value(text, inner, *entry, wanted_entry(s), f);
}

void splice_cdi(std::string& text, const splice::Format& f) {
  const Object top = splice::scan_top(text);
  const Member* features = top.find("features");
  if (features)
    splice::set_member(text, splice::scan_object(text, features->value_begin), "cdi", true, f);
  else
    splice::insert_member(text, top, "features", Json{{"cdi", true}}, f);
}

Json removed(Json doc, const std::string& name, const std::optional<std::string>& previous) {
  if (doc.contains("runtimes") && doc["runtimes"].contains(name)) {
    doc["runtimes"].erase(name);
    if (doc["runtimes"].empty()) doc.erase("runtimes");
  }
  if (previous)
    doc["default-runtime"] = *previous;
  else if (doc.contains("default-runtime") && doc["default-runtime"] == name)
    doc.erase("default-runtime");
  return doc;
}

void splice_removal(std::string& text, const std::string& name,
                    const std::optional<std::string>& previous, const splice::Format& f) {
  Object top = splice::scan_top(text);
  if (const Member* runtimes = top.find("runtimes")) {
    const Object inner = splice::scan_object(text, runtimes->value_begin);
    if (auto i = inner.index_of(name)) {
      if (inner.members.size() == 1)
        splice::erase_member(text, top, *top.index_of("runtimes"));
      else
        splice::erase_member(text, inner, *i);
      top = splice::scan_top(text);
    }
  }
  if (previous) {
    splice::set_member(text, top, "default-runtime", *previous, f);
    return;
  }
  const auto i = top.index_of("default-runtime");
  if (i && splice::value_of(text, top.members[*i]) == name) splice::erase_member(text, top, *i);
}

// ---- putting it together ------------------------------------------------------------------------

bool has_members(std::string_view text) {
  return !splice::is_blank(text) && !splice::scan_top(text).members.empty();
}

// The last line of defence: the bytes we return must mean exactly the intended document.
void verify(std::string_view text, const Json& intended, const std::string& path) {
  const Json got = Json::parse(text.begin(), text.end(), nullptr, false);
  if (got != intended)
    throw Error("internal error while editing " + path +
                ": the edited text does not mean the intended settings; nothing was written"
                " (please report this with the file)");
}

// `change` says what the edit means; `splice_bytes` makes it so in the bytes of a non-empty object.
template <typename Change, typename Splice>
DaemonJsonEdit edit(std::string_view original, const std::string& path, Change change,
                    Splice splice_bytes) {
  try {
    const Json before = load(original, path);
    DaemonJsonEdit result;
    if (before.contains("default-runtime"))
      result.previous_default = before["default-runtime"].get<std::string>();
    const Json after = change(before);
    result.text = std::string(original);
    if (after == before) return result;
    if (has_members(original))
      splice_bytes(result.text, splice::detect_format(original));
    else
      result.text = splice::fresh_document(original, after);
    verify(result.text, after, path);
    result.changed = result.text != original;
    return result;
  } catch (const nlohmann::json::exception& e) {
    // Our own values (a runtime name or path that is not UTF-8) or a bug of ours.
    throw Error("cannot edit " + path + ": " + e.what());
  }
}

}  // namespace

DaemonJsonEdit configure_docker_runtime(std::string_view original, const std::string& path,
                                        const DockerRuntimeSettings& settings) {
  return edit(
      original, path, [&](const Json& doc) { return configured(doc, settings); },
      [&](std::string& text, const splice::Format& f) {
        splice_runtime(text, settings, f);
        if (settings.set_as_default)
          splice::set_member(text, splice::scan_top(text), "default-runtime", settings.runtime_name,
                             f);
        if (settings.enable_cdi) splice_cdi(text, f);
      });
}

DaemonJsonEdit remove_docker_runtime(std::string_view original, const std::string& path,
                                     const std::string& runtime_name,
                                     const std::optional<std::string>& previous_default) {
  return edit(
      original, path, [&](const Json& doc) { return removed(doc, runtime_name, previous_default); },
      [&](std::string& text, const splice::Format& f) {
        splice_removal(text, runtime_name, previous_default, f);
      });
}

}  // namespace gns::config
