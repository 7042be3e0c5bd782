#pragma once
// Editing Docker's /etc/docker/daemon.json the way a careful person would by hand: only the
// members we own ("runtimes".<name>, "default-runtime", "features"."cdi") change; every other
// byte of the user's file (key order, number spellings, escapes, blank lines, indentation, CRLF,
// the final newline or its absence) stays as it was (STYLE.md 8). Pure functions: text in, text
// out; reading and writing the file is the caller's business (HostRoot).

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
};

// The result of one edit of daemon.json.
struct DaemonJsonEdit {
  // The new file bytes; exactly the original bytes when there was nothing to do.
  std::string text;
  // Whether `text` differs from the original bytes.
  bool changed = false;
  // The string value of "default-runtime" before the edit; nullopt when the file had none.
  std::optional<std::string> previous_default;
};

// Makes `original` (the bytes of daemon.json; "" or whitespace only counts as {}) register
// `settings.runtime_name` as {"path": runtime_path, "args": []} under "runtimes", and, as
// `settings` asks, make it the default runtime and set "features"."cdi" to true.
// An existing "runtimes".<name> whose "path" already is `runtime_path` is kept as it is, with
// whatever else the user put in it; one with another path (or no path) is replaced. New members
// go after the last member of their object, in the file's own layout (one per line with the
// siblings' indentation, or inline for a one-line file); an empty file or {} becomes a 2-space
// indented document ending in a newline. `path` names the file in errors.
// Throws ConfigError ("path:line:col: ...") when `original` is not valid JSON (comments, trailing
// commas and NUL bytes included), is not a JSON object, has "runtimes" or "features" that is not
// an object, a "default-runtime" that is not a string, or a key twice in the top-level object,
// "runtimes" or "features". Throws Error when `settings` hold text that is not UTF-8, or if the
// edited text would not mean exactly the intended change (a bug of ours; nothing is returned).
DaemonJsonEdit configure_docker_runtime(std::string_view original, const std::string& path,
                                        const DockerRuntimeSettings& settings);

// The inverse of `configure_docker_runtime`, for `revert --force` when the file changed since we
// wrote it: removes "runtimes".`runtime_name` (and "runtimes" itself when that leaves it empty),
// then puts "default-runtime" back: removed when `previous_default` is nullopt and it names
// `runtime_name`, otherwise set to `*previous_default` (added if missing). "features" is never
// touched. Every other byte stays, so remove(configure(x)) == x for a non-empty x that had no
// `runtime_name` runtime and no "cdi" feature added. `previous_default` in the result is the
// "default-runtime" found before this edit. Throws as `configure_docker_runtime` does.
DaemonJsonEdit remove_docker_runtime(std::string_view original, const std::string& path,
                                     const std::string& runtime_name,
                                     const std::optional<std::string>& previous_default);

}  // namespace gns::config
