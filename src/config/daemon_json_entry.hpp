#pragma once
// Internal to daemon_json.cpp: "runtimes".<name> of daemon.json, member by member. An entry of
// the user's with another path keeps every member of theirs: configure sets its "path" and adds
// the template's members it lacks, and revert --force undoes exactly that. Each edit is made
// on the meaning (nlohmann) and on the bytes (json_splice), which daemon_json.cpp checks agree.

#include <cstddef>
#include <string>

#include "daemon_json.hpp"
#include "json_splice.hpp"

namespace gns::config::daemon_json_entry {

using splice::Json;

// The entry we write for `s`: `s.runtime_entry`, or the stock {"path": runtime_path, "args": []}.
Json wanted(const DockerRuntimeSettings& s);

// Whether `entry` is an object whose "path" is `runtime_path`.
bool is_ours(const Json& entry, const std::string& runtime_path);

// What configure does to "runtimes".<s.runtime_name> of `doc` (a loaded daemon.json; `path`
// names it in errors): add it when absent, keep it when its path is ours, else set its path
// and add the template's members it lacks. Throws Error when that entry is a containerd shim
// ("runtimeType" or "options" set), which dockerd refuses to combine with a "path".
DockerEntryEdit plan(const Json& doc, const DockerRuntimeSettings& s, const std::string& path);

// Makes `e` (path_set) so in `entry`: "path" set where it is (or appended), `e.added_members`
// appended.
void set_path(Json& entry, const DockerEntryEdit& e);

// set_path on the bytes of the entry whose '{' is at offset `open` of `text`, in layout `f`.
void splice_set_path(std::string& text, std::size_t open, const DockerEntryEdit& e,
                     const splice::Format& f);

// Undoes set_path on `entry`, whose "path" is still `e.path_written`: the added members whose
// values are still the ones added go, and "path" becomes `e.previous_path` again (or goes).
void restore(Json& entry, const DockerEntryEdit& e);

// restore on the bytes of the entry whose '{' is at offset `open` of `text`. Members that
// set_path appended come out with the separator they went in with, so the bytes are the old
// ones where the old path is spelled as JSON writes it.
void splice_restore(std::string& text, std::size_t open, const DockerEntryEdit& e,
                    const splice::Format& f);

}  // namespace gns::config::daemon_json_entry
