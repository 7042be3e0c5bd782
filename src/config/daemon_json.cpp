#include "daemon_json.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "daemon_json_entry.hpp"
#include "json_splice.hpp"

// nlohmann validates the file and says what it means; json_splice finds where each member sits,
// so that an edit is a splice of a few bytes and the rest of the user's file is never
// re-serialised. Each edit is computed twice, on the meaning and on the bytes, and the two must
// agree before anything is returned.

namespace gns::config {
namespace {

namespace entry = daemon_json_entry;
using splice::Json;
using splice::Member;
using splice::Object;

// A template with its placeholders replaced, and where each replacement sits in both texts.
struct RenderedTemplate {
  struct Replacement {
    std::size_t rendered, rendered_size, original, original_size;
  };
  std::string text;
  std::vector<Replacement> replacements;  // in order

  // The template offset that offset `at` of `text` came from; within a replacement, the start
  // of its placeholder.
  std::size_t origin(std::size_t at) const {
    std::size_t rendered = 0, original = 0;  // the last aligned offsets before `at`
    for (const auto& r : replacements) {
      if (at < r.rendered) break;
      if (at < r.rendered + r.rendered_size) return r.original;
      rendered = r.rendered + r.rendered_size, original = r.original + r.original_size;
    }
    return at - rendered + original;
  }
};

// Where errors about a JSON text are reported: at the text's own line and column, or, for a
// rendered template, at the position in the template that each offset came from.
class ErrorSite {
public:
  // `text` is what positions are counted in; `path` names it in errors; `rendered`, when
  // given, is what `text` was rendered into, which offsets point into.
  ErrorSite(std::string_view text, std::string path, const RenderedTemplate* rendered = nullptr)
      : m_text(text), m_path(std::move(path)), m_rendered(rendered) {}

  [[noreturn]] void fail(std::size_t offset, const std::string& message) const {
    const splice::LineColumn at = position(offset);
    throw ConfigError(m_path, at.line, at.column, message);
  }
  unsigned line_of(std::size_t offset) const { return position(offset).line; }

private:
  splice::LineColumn position(std::size_t offset) const {
    return splice::line_column(m_text, m_rendered ? m_rendered->origin(offset) : offset);
  }

  std::string_view m_text;
  std::string m_path;
  const RenderedTemplate* m_rendered;
};

// nlohmann reports the offset of the last character it read; for a bad bare word (`nv` of a
// stray `nvidia`, `//` of a comment) point at the word's start, as python's json module does.
std::size_t error_offset(std::string_view text, std::size_t byte, std::string_view what) {
  std::size_t at = std::min(byte == 0 ? 0 : byte - 1, text.size());
  if (what.find("invalid literal") == std::string_view::npos) return at;
  while (at > 0 && std::isalpha(static_cast<unsigned char>(text[at - 1]))) --at;
  while (at < text.size() && splice::is_space(text[at])) ++at;
  return at;
}

// `invalid` opens the message for text that is not JSON.
Json parse_json(std::string_view text, const ErrorSite& site,
                std::string_view invalid = "not valid JSON") {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    std::string_view what = e.what();
    const std::size_t at = error_offset(text, e.byte, what);
    if (at < text.size() && text[at] == '\0')
      site.fail(at, std::string(invalid) + ": a NUL byte (is this a binary file?)");
    // Drop nlohmann's "[json.exception...] parse error at line L, column C: "; ours is in front.
    if (auto colon = what.find(": "); what.starts_with("[json.") && colon != what.npos)
      what.remove_prefix(colon + 2);
    site.fail(at, std::string(invalid) + ": " + std::string(what));
  }
}

// Keys twice in an object we edit are ambiguous (dockerd's Go decoder silently takes the last);
// deeper duplicates are the user's business and pass through untouched.
void require_unique_keys(const Object& object, const ErrorSite& site) {
  for (std::size_t i = 1; i < object.members.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (object.members[i].key == object.members[j].key)
        site.fail(object.members[i].key_begin,
                  "duplicate key \"" + object.members[i].key + "\" (first on line " +
                      std::to_string(site.line_of(object.members[j].key_begin)) +
                      "); keep only one");
}

// Member `key` of `object` (which `doc` means), when it is there: an object without a key
// twice. `name` is what errors call it.
void require_object_member(std::string_view text, const Object& object, const Json& doc,
                           const std::string& key, const std::string& name, const ErrorSite& site) {
  const Member* m = object.find(key);
  if (!m) return;
  if (!doc[key].is_object())
    site.fail(m->value_begin,
              name + " must be a JSON object, not " + std::string(doc[key].type_name()));
  require_unique_keys(splice::scan_object(text, m->value_begin), site);
}

// "runtimes".`runtime_name` is an object we may edit member by member, as dockerd reads it.
Json load(std::string_view text, const std::string& path, const std::string& runtime_name) {
  if (splice::is_blank(text)) return Json::object();
  const ErrorSite site(text, path);
  Json doc = parse_json(text, site);
  if (!doc.is_object())
    site.fail(splice::top_start(text),
              "daemon.json must be a JSON object ({ ... }), not " + std::string(doc.type_name()));
  const Object top = splice::scan_top(text);
  require_unique_keys(top, site);
  require_object_member(text, top, doc, "runtimes", "\"runtimes\"", site);
  require_object_member(text, top, doc, "features", "\"features\"", site);
  if (const Member* runtimes = top.find("runtimes"))
    require_object_member(text, splice::scan_object(text, runtimes->value_begin), doc["runtimes"],
                          runtime_name, "\"runtimes\"." + Json(runtime_name).dump(), site);
  if (const Member* m = top.find("default-runtime"); m && !doc["default-runtime"].is_string())
    site.fail(m->value_begin, "\"default-runtime\" must be a string (a runtime's name), not " +
                                  std::string(doc["default-runtime"].type_name()));
  return doc;
}

// ---- the runtime's entry, from its template -----------------------------------------------------

// `value` as the inside of a JSON string: nlohmann's escaping without the quotes.
std::string json_string_body(const std::string& value, const char* what) {
  try {
    const std::string quoted = Json(value).dump();
    return quoted.substr(1, quoted.size() - 2);
  } catch (const Json::type_error&) {
    throw Error(std::string(what) + " '" + value + "' is not UTF-8 text");
  }
}

RenderedTemplate substitute(std::string_view text, const std::string& path, const std::string& name,
                            const std::string& runtime_path) {
  const ErrorSite site(text, path);
  RenderedTemplate out;
  std::size_t at = 0;
  for (std::size_t open; (open = text.find("{{", at)) != text.npos;) {
    const std::size_t close = text.find("}}", open);
    if (close == text.npos) site.fail(open, "\"{{\" is not closed by \"}}\"");
    const std::string_view placeholder = text.substr(open, close + 2 - open);
    std::string value;
    if (placeholder == "{{runtime_name}}")
      value = json_string_body(name, "runtime name");
    else if (placeholder == "{{runtime_path}}")
      value = json_string_body(runtime_path, "runtime path");
    else
      site.fail(open, "unknown placeholder " + std::string(placeholder) +
                          " (known: {{runtime_name}}, {{runtime_path}})");
    out.text.append(text.substr(at, open - at));
    out.replacements.push_back({out.text.size(), value.size(), open, placeholder.size()});
    out.text += value;
    at = close + 2;
  }
  out.text.append(text.substr(at));
  return out;
}

// What dockerd and status need of the entry: an object naming our binary, unambiguously.
void check_entry(const RenderedTemplate& rendered, const Json& entry, const ErrorSite& site,
                 const std::string& runtime_path) {
  const std::size_t start = splice::top_start(rendered.text);
  if (!entry.is_object())
    site.fail(start, "the runtime's entry must be a JSON object ({\"path\": ...}), not " +
                         std::string(entry.type_name()));
  const Object object = splice::scan_top(rendered.text);
  require_unique_keys(object, site);
  const Member* path = object.find("path");
  if (!path)
    site.fail(start, "the runtime's entry has no \"path\": write \"path\": \"{{runtime_path}}\"");
  if (entry["path"] != runtime_path)
    site.fail(path->value_begin,
              "\"path\" must be \"{{runtime_path}}\" (the --runtime-path), not " +
                  splice::value_of(rendered.text, *path).dump());
}

// ---- the two edits, on the meaning (to check against) and on the bytes ------------------------

Json configured(Json doc, const DockerRuntimeSettings& s, const DockerEntryEdit& e) {
  if (e.change == DockerEntryChange::added) doc["runtimes"][s.runtime_name] = entry::wanted(s);
  if (e.change == DockerEntryChange::path_set) entry::set_path(doc["runtimes"][s.runtime_name], e);
  if (s.set_as_default) doc["default-runtime"] = s.runtime_name;
  if (s.enable_cdi) doc["features"]["cdi"] = true;
  return doc;
}

void splice_runtime(std::string& text, const DockerRuntimeSettings& s, const DockerEntryEdit& e,
                    const splice::Format& f) {
  if (e.change == DockerEntryChange::kept) return;
  const Object top = splice::scan_top(text);
  const Member* runtimes = top.find("runtimes");
  if (!runtimes) {
    Json value = Json::object();
    value[s.runtime_name] = entry::wanted(s);
    splice::insert_member(text, top, "runtimes", value, f);
    return;
  }
  const Object inner = splice::scan_object(text, runtimes->value_begin);
  if (const Member* m = inner.find(s.runtime_name))
    entry::splice_set_path(text, m->value_begin, e, f);
  else
    splice::insert_member(text, inner, s.runtime_name, entry::wanted(s), f);
}

void splice_cdi(std::string& text, const splice::Format& f) {
  const Object top = splice::scan_top(text);
  const Member* features = top.find("features");
  if (features)
    splice::set_member(text, splice::scan_object(text, features->value_begin), "cdi", true, f);
  else
    splice::insert_member(text, top, "features", Json{{"cdi", true}}, f);
}

Json removed(Json doc, const std::string& name, const std::optional<std::string>& previous,
             const DockerEntryEdit& e) {
  if (doc.contains("runtimes") && doc["runtimes"].contains(name)) {
    Json& runtimes = doc["runtimes"];
    if (e.change == DockerEntryChange::added) {
      runtimes.erase(name);
      if (runtimes.empty()) doc.erase("runtimes");
    } else if (e.change == DockerEntryChange::path_set &&
               entry::is_ours(runtimes[name], e.path_written)) {
      entry::restore(runtimes[name], e);
    }
  }
  if (previous)
    doc["default-runtime"] = *previous;
  else if (doc.contains("default-runtime") && doc["default-runtime"] == name)
    doc.erase("default-runtime");
  return doc;
}

// "runtimes".<name> as `removed` undoes it.
void splice_entry_removal(std::string& text, const std::string& name, const DockerEntryEdit& e,
                          const splice::Format& f) {
  const Object top = splice::scan_top(text);
  const Member* runtimes = top.find("runtimes");
  if (!runtimes) return;
  const Object inner = splice::scan_object(text, runtimes->value_begin);
  const auto i = inner.index_of(name);
  if (!i) return;
  if (e.change == DockerEntryChange::added) {
    if (inner.members.size() == 1)
      splice::erase_member(text, top, *top.index_of("runtimes"));
    else
      splice::erase_member(text, inner, *i);
  } else if (e.change == DockerEntryChange::path_set &&
             entry::is_ours(splice::value_of(text, inner.members[*i]), e.path_written)) {
    entry::splice_restore(text, inner.members[*i].value_begin, e, f);
  }
}

void splice_removal(std::string& text, const std::string& name,
                    const std::optional<std::string>& previous, const DockerEntryEdit& e,
                    const splice::Format& f) {
  splice_entry_removal(text, name, e, f);
  const Object top = splice::scan_top(text);
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
DaemonJsonEdit edit(std::string_view original, const std::string& path,
                    const std::string& runtime_name, Change change, Splice splice_bytes) {
  try {
    const Json before = load(original, path, runtime_name);
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

Json render_docker_runtime_entry(std::string_view template_text, const std::string& template_name,
                                 const std::string& runtime_name, const std::string& runtime_path) {
  const RenderedTemplate rendered =
      substitute(template_text, template_name, runtime_name, runtime_path);
  const ErrorSite site(template_text, template_name, &rendered);
  const Json entry = parse_json(rendered.text, site, "renders to invalid JSON");
  check_entry(rendered, entry, site, runtime_path);
  return entry;
}

DaemonJsonEdit configure_docker_runtime(std::string_view original, const std::string& path,
                                        const DockerRuntimeSettings& settings) {
  if (const auto& entry = settings.runtime_entry;
      entry && !(entry->is_object() && entry->value("path", Json()) == settings.runtime_path))
    throw Error("internal error while editing " + path + ": the runtime's entry " + entry->dump() +
                " does not have \"path\": " + Json(settings.runtime_path).dump());
  DockerEntryEdit entry_edit;
  DaemonJsonEdit result = edit(
      original, path, settings.runtime_name,
      [&](const Json& doc) {
        entry_edit = entry::plan(doc, settings, path);
        return configured(doc, settings, entry_edit);
      },
      [&](std::string& text, const splice::Format& f) {
        splice_runtime(text, settings, entry_edit, f);
        if (settings.set_as_default)
          splice::set_member(text, splice::scan_top(text), "default-runtime", settings.runtime_name,
                             f);
        if (settings.enable_cdi) splice_cdi(text, f);
      });
  result.entry = entry_edit;
  return result;
}

DaemonJsonEdit remove_docker_runtime(std::string_view original, const std::string& path,
                                     const std::string& runtime_name,
                                     const std::optional<std::string>& previous_default,
                                     const DockerEntryEdit& entry) {
  return edit(
      original, path, runtime_name,
      [&](const Json& doc) { return removed(doc, runtime_name, previous_default, entry); },
      [&](std::string& text, const splice::Format& f) {
        splice_removal(text, runtime_name, previous_default, entry, f);
      });
}

}  // namespace gns::config
