#pragma once
// Editing Docker's /etc/docker/daemon.json the way a careful person would by hand: only the
// members we own ("runtimes".<name>, "default-runtime", "features"."cdi") change; every other
// byte of the user's file (key order, number spellings, escapes, blank lines, indentation, CRLF,
// the final newline or its absence) stays as it was (STYLE.md 8). Pure functions: text in, text
// out; reading and writing the file is the caller's business (HostRoot), and so is reading the
// template of our runtime's entry (templates/docker/runtime.json, config/templates.hpp).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gns::config {

// What `configure_docker_runtime` makes true in daemon.json.
struct DockerRuntimeSettings {
  // The key under "runtimes" and the value of "default-runtime".
  std::string runtime_name = "nvidia";
  // The executable dockerd runs for that runtime.
  std::string runtime_path = "/usr/bin/nvidia-container-runtime";
  // Also make it dockerd's default: "default-runtime": runtime_name.
  bool set_as_default = true;
  // Also turn on CDI: "features": {"cdi": true}, merged into any existing "features".
  bool enable_cdi = false;
  // The value of "runtimes".<runtime_name>, as render_docker_runtime_entry makes it from the
  // template; its "path" is `runtime_path`. nullopt: what the stock template renders,
  // {"path": runtime_path, "args": []}.
  std::optional<nlohmann::ordered_json> runtime_entry;
};

// Renders the template of our runtime's entry (`template_text`, named `template_name` in
// errors): the JSON value of "runtimes".<name>, in which every {{runtime_name}} and
// {{runtime_path}} (meant to sit inside a JSON string) becomes `runtime_name` or
// `runtime_path`, escaped for a JSON string. Member order is the template's.
// Throws ConfigError ("template_name:line:col: ...", at the template's own line and column)
// for an unknown or unclosed placeholder, and when the text after substitution is not JSON,
// not an object, has a key twice, or lacks a "path" that is `runtime_path` (dockerd runs the
// binary "path" names, and status judges the entry by it). Throws Error when `runtime_name` or
// `runtime_path` is not UTF-8.
nlohmann::ordered_json render_docker_runtime_entry(std::string_view template_text,
                                                   const std::string& template_name,
                                                   const std::string& runtime_name,
                                                   const std::string& runtime_path);

// What configure_docker_runtime did to "runtimes".<name>: the entry was not there and was
// added whole; it was there with our path and was kept as it was; or it was there with another
// path (or none), and its "path" was set and the template's members it lacked were added.
// revert --force needs to know which it undoes.
enum class DockerEntryChange { added, kept, path_set };

// "added", "kept", "path_set" (as the undo record keeps it), and back.
std::string_view to_string(DockerEntryChange change);
std::optional<DockerEntryChange> parse_docker_entry_change(std::string_view word);

// What configure_docker_runtime did to "runtimes".<name>, in full: what remove_docker_runtime
// takes out again, and no more.
struct DockerEntryEdit {
  DockerEntryChange change = DockerEntryChange::added;
  // path_set: the path it set (the runtime path), and the entry's "path" before (nullopt when
  // it had none).
  std::string path_written;
  std::optional<nlohmann::ordered_json> previous_path;
  // path_set: the members of the template that the entry lacked, as they were added.
  nlohmann::ordered_json added_members = nlohmann::ordered_json::object();
};

// The result of one edit of daemon.json.
struct DaemonJsonEdit {
  // The new file bytes; exactly the original bytes when there was nothing to do.
  std::string text;
  // Whether `text` differs from the original bytes.
  bool changed = false;
  // The string value of "default-runtime" before the edit; nullopt when the file had none.
  std::optional<std::string> previous_default;
  // configure_docker_runtime: what it did to "runtimes".<name> (kept when there was nothing to
  // do). Record it: revert --force must give back an entry that was there before.
  DockerEntryEdit entry;
};

// Makes `original` (the bytes of daemon.json; "" or whitespace only counts as {}) register
// `settings.runtime_name` as `settings.runtime_entry` under "runtimes", and, as `settings`
// asks, make it the default runtime and set "features"."cdi" to true.
// An existing "runtimes".<name> whose "path" already is `runtime_path` is kept as it is, with
// whatever else the user put in it. One with another path (or no path) is the user's entry
// still: only what the template owns changes. Its "path" becomes `runtime_path` in place, the
// template's other members are added where the entry lacks them, and every member of the
// user's ("runtimeArgs" first of all: dockerd passes them to the runtime) stays, byte for byte.
// New members go after the last member of their object, in the file's own layout (one per line
// with the siblings' indentation, or inline for a one-line file); an empty file or {} becomes a
// 2-space indented document ending in a newline. `path` names the file in errors.
// Throws ConfigError ("path:line:col: ...") when `original` is not valid JSON (comments, trailing
// commas and NUL bytes included), is not a JSON object, has "runtimes", "features" or
// "runtimes".<name> that is not an object, a "default-runtime" that is not a string, or a key
// twice in the top-level object, "runtimes", "runtimes".<name> or "features". Throws Error when
// an entry with another path names a containerd shim ("runtimeType" or "options"), which dockerd
// refuses to combine with a "path" (the message suggests --runtime-name); when `settings` hold
// text that is not UTF-8; if the edited text would not mean exactly the intended change, or
// when `settings.runtime_entry` is not an object whose "path" is `runtime_path` (bugs of ours;
// nothing is returned).
DaemonJsonEdit configure_docker_runtime(std::string_view original, const std::string& path,
                                        const DockerRuntimeSettings& settings);

// The inverse of `configure_docker_runtime`, for `revert --force` when the file changed since we
// wrote it. "runtimes".`runtime_name` is undone as `entry` (configure's result) says: added, it
// is removed (and "runtimes" itself when that leaves it empty); kept, it stays; path_set, and
// its "path" still is `entry.path_written`, the added members whose values are still the ones
// added are removed and "path" is put back as it was (removed when it had none); a path someone
// changed since is theirs, and the entry stays. Then "default-runtime" is put back: removed
// when `previous_default` is nullopt and it names `runtime_name`, otherwise set to
// `*previous_default` (added if missing). "features" is never touched. Every other byte stays,
// so remove(configure(x)) == x for a non-empty x without a "cdi" feature added, an empty
// "runtimes" of its own, or an old "path" spelled other than as JSON writes it. The default
// `entry` (added) is what an undo record from before it was kept means. `previous_default` in
// the result is the "default-runtime" found before this edit. Throws as
// `configure_docker_runtime` does.
DaemonJsonEdit remove_docker_runtime(std::string_view original, const std::string& path,
                                     const std::string& runtime_name,
                                     const std::optional<std::string>& previous_default,
                                     const DockerEntryEdit& entry = {});

}  // namespace gns::config
