#pragma once
// Adding the NVIDIA runtime to containerd's config.toml, and taking it out again, as surgical
// byte edits: what `nvidia-ctk runtime configure --runtime=containerd --set-as-default` means,
// without rewriting the file. Every byte we do not own stays as the user wrote it: comments,
// blank lines, key order, quoting, indentation, CRLF line endings, a missing final newline.
//
// What we own, all of it appended at the end of the file unless said otherwise:
//   - `<cri>.containerd.runtimes.<name>` and its `.options` table, as ordinary [table]
//     headers, indented and quoted like the file's other runtime tables (or, when it has none,
//     as it nests its other tables);
//   - `<cri>.containerd.default_runtime_name`: its value is replaced in place (quoting kept),
//     or the key is put on a new line right after the `[<cri>.containerd]` header (after the
//     dotted keys that define that table, when the file writes it that way), or a
//     `[<cri>.containerd]` table holding only it goes after the runtime's tables — after, so
//     that revert can tell it from one the user wrote;
//   - for a file with nothing in it but blanks and comments: a `version = N` line first.
// New text uses the file's line ending; a blank line separates it from the file's last line,
// or, when that line has no newline, it just gets one. The text comes from one function
// (containerd_text::render_addition), meant to move to templates/ as it stands.
// `<cri>` follows the file's schema version: `plugins.cri` when it has no `version` key (v1 —
// containerd then ignores any `io.containerd.grpc.v1.cri` table, so that is not where the
// runtime goes), `plugins."io.containerd.grpc.v1.cri"` for version 2,
// `plugins."io.containerd.cri.v1.runtime"` for versions 3 and 4.
//
// The new runtime copies the runtime that containerd uses by default (the deprecated
// `default_runtime` table when it has a type, else the one `default_runtime_name` names unless
// that is an nvidia* runtime, else `runc`, else `crun`), so that `options.SystemdCgroup`,
// `base_runtime_spec`, `privileged_without_host_devices` and the like carry over. Only a runc
// shim (io.containerd.runc.v1/v2, io.containerd.runtime.v1.linux or no type) is copied: the
// NVIDIA runtime is a runc wrapper, and a kata or gVisor shim would not run it. An empty or
// absent `runtime_type` becomes io.containerd.runc.v2, `options.BinaryName` becomes the runtime
// path, and `options.Runtime` too where containerd reads that one (schema v1, or the
// io.containerd.runtime.v1.linux shim). An existing key spelled in another case
// (`binaryName`) is given the value rather than doubled, since containerd matches those keys
// without regard to case.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gns::config {

// The runtime to add: its name (what a Kubernetes RuntimeClass handler names), the binary
// containerd's runc shim runs for it, and whether it becomes containerd's default.
struct ContainerdRuntimeSettings {
  std::string runtime_name = "nvidia";
  std::string runtime_path = "/usr/bin/nvidia-container-runtime";
  bool set_as_default = true;
};

// What configure_containerd_runtime or remove_containerd_runtime made of a file.
struct ContainerdEdit {
  std::string text;  // the new bytes (== the original when nothing changed)
  bool changed = false;
  // The file's schema version (for an empty file, the one it was given).
  int64_t config_version = 2;
  // default_runtime_name before this edit, if it was set.
  std::optional<std::string> previous_default;
  // This edit added the runtime's tables. Record it: revert must keep a runtime that was
  // there before (KeepRuntime::yes).
  bool runtime_added = false;
  // `disabled_plugins` switches the CRI plugin off, so containerd will not use the runtime.
  bool cri_disabled = false;
};

// Adds the runtime `settings` describe to containerd config `original` (the file's bytes;
// `path` names it in errors) and, when `settings.set_as_default`, makes it the default. A file
// that is empty or holds only blanks and comments gets a fresh config of schema version
// `version_if_empty` (2 for containerd 1.x, 3 for 2.x; 1 to 4 are accepted).
// Idempotent: when the runtime is already there (same name, BinaryName and a runc shim type)
// and the default is as asked, returns the original bytes with `changed` false. With
// `set_as_default` false the default is left alone, even when it names this runtime.
// The result is parsed again and must mean the original plus exactly these additions.
// Throws ConfigError ("path:line:col: ...") when `original` is not valid TOML, has a schema
// version other than 1 to 4, or is built in a way this edit cannot be spliced into without
// rewriting the user's text: an inline table or a value where a table must go, or (schema 1 and
// 2) a deprecated `default_runtime` table with a type, which would silently override a new
// default_runtime_name. Throws Error when another runtime already uses
// `settings.runtime_name` (for example a gVisor runtime called "nvidia"): it is never
// overwritten; the message suggests --runtime-name. Throws Error if the edit would not mean
// what it should (a bug in this code).
ContainerdEdit configure_containerd_runtime(std::string_view original, const std::string& path,
                                            int64_t version_if_empty,
                                            const ContainerdRuntimeSettings& settings);

// Whether remove_containerd_runtime deletes the runtime's tables (configure added them) or
// keeps them (they were in the file before; only the default is restored).
enum class KeepRuntime { no, yes };

// For `revert --force`: the inverse of configure_containerd_runtime on `original` (`path` names
// it in errors). Deletes the `<cri>.containerd.runtimes.<runtime_name>` tables (unless
// `keep_runtime`), and where default_runtime_name still names `runtime_name` (otherwise someone
// changed it since, and it stays), sets it back to `previous_default` or, when that is empty,
// deletes the key — and the `[<cri>.containerd]` table with it when that table is the last in
// the file, holds nothing else and follows the runtime's tables (or `keep_runtime`): the one
// configure appends. A file left holding nothing but `version = N` is taken to be one
// configure created from an empty file, and is emptied. Every other byte stays:
// remove(configure(x)) gives back x, except for the two cases those rules cannot tell apart —
// an x that is only `version = N`, and an x whose last table is an empty
// `[<cri>.containerd]` while the runtime was already there.
// `previous_default` in the result is default_runtime_name before this edit.
// Throws ConfigError when `original` is not valid TOML or writes the runtime or the default in
// a form configure does not write (dotted keys or an inline table in another table). Throws
// Error if the edit would not mean what it should (a bug in this code).
ContainerdEdit remove_containerd_runtime(std::string_view original, const std::string& path,
                                         const std::string& runtime_name,
                                         const std::optional<std::string>& previous_default,
                                         KeepRuntime keep_runtime = KeepRuntime::no);

}  // namespace gns::config
