#pragma once
// Adding the NVIDIA runtime to containerd's config.toml, and taking it out again, as surgical
// byte edits: what `nvidia-ctk runtime configure --runtime=containerd --set-as-default` means,
// without rewriting the file. (From containerd 2.1 on, the runtime goes in a drop-in instead,
// written the same way: containerd_dropin.hpp.) Every byte we do not own stays as the user wrote
// it: comments, blank lines, key order, quoting, indentation, CRLF line endings, a missing final
// newline.
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
//   - for a file with nothing in it but blanks and comments: a `version = N` line first;
//   - `<cri>.containerd.runtimes.runc`, holding only `runtime_type = "io.containerd.runc.v2"`,
//     before the runtime's tables, when the file has no `runtimes` table at all and is of schema
//     1 or 2. containerd's built-in runc then exists only as a default, and containerd 1.x
//     (whose TOML decoder, go-toml v1, replaces a map it decodes into) drops it as soon as the
//     file defines a runtime of its own: every RuntimeClass with handler runc would stop
//     working. An empty `runtimes` table has dropped it already, so it gets none. Schemas 3 and
//     4 are read by containerd 2.x only, whose decoder (go-toml v2) decodes the file over the
//     built-in runtimes and keeps those the file does not name: no runc there. revert takes it
//     out again while it is still just that and nothing but ours is beside it.
// New text uses the file's line ending; a blank line separates it from the file's last line,
// or, when that line has no newline, it just gets one. One function writes it
// (containerd_text::render_addition), indented and quoted like the file.
// `<cri>` follows the file's schema version: `plugins.cri` when it has no `version` key (v1 —
// containerd then ignores any `io.containerd.grpc.v1.cri` table, so that is not where the
// runtime goes), `plugins."io.containerd.grpc.v1.cri"` for version 2,
// `plugins."io.containerd.cri.v1.runtime"` for versions 3 and 4.
//
// When the runtime is to be the default and the default runtime is another one that already
// runs `runtime_path` in a runc shim (AKS names it "nvidia-container-runtime"), the file is
// already what we want: nothing is added, nothing changes (ContainerdEdit::already_default).
//
// The new runtime copies the runtime that containerd uses by default (the deprecated
// `default_runtime` table when it has a type, else the one `default_runtime_name` names unless
// that is an nvidia* runtime that does not run `runtime_path`, else `runc`, else `crun`, else
// any runtime that runs `runtime_path` already), so that `options.SystemdCgroup`,
// `base_runtime_spec`, `privileged_without_host_devices` and the like carry over. Only a runc
// shim (io.containerd.runc.v1/v2, io.containerd.runtime.v1.linux or no type) is copied: the
// NVIDIA runtime is a runc wrapper, and a kata or gVisor shim would not run it. An empty or
// absent `runtime_type` becomes io.containerd.runc.v2, `options.BinaryName` becomes the runtime
// path, and `options.Runtime` too where containerd reads that one (schema v1, or the
// io.containerd.runtime.v1.linux shim). An existing key spelled in another case
// (`binaryName`) is given the value rather than doubled, since containerd matches those keys
// without regard to case.
//
// The keys laid over the copy come from the runtime template, templates/containerd/runtime.toml
// (read with config::read_template(settings.templates_dir, k_containerd_runtime_template)): a
// TOML fragment relative to `<cri>.containerd.runtimes.<name>`, where `options.X` names a key
// of the runtime's options table. The stock one holds only
// `options.BinaryName = "{{runtime_path}}"`; a site's may add keys
// (`privileged_without_host_devices = false`, `options.SystemdCgroup = true`), each replacing
// the copied key of that name. Placeholders, inside "basic strings": {{runtime_name}} and
// {{runtime_path}}. A string value is written in the file's quote style, any other value as
// the template writes it. A template must keep options.BinaryName = "{{runtime_path}}" and
// may set runtime_type only to a runc shim (containerd_template.hpp says what else it checks).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "containerd_template.hpp"
#include "templates.hpp"

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
  // This edit also added an explicit runc runtime, so that containerd 1.x keeps one (see
  // above). Record it: revert takes it out again (AddedRunc::yes).
  bool runc_added = false;
  // The default runtime already runs the NVIDIA runtime under this name: nothing was added.
  std::optional<std::string> already_default;
  // `disabled_plugins` switches the CRI plugin off, so containerd will not use the runtime.
  bool cri_disabled = false;
};

// Adds the runtime `settings` describe to containerd config `original` (the file's bytes;
// `path` names it in errors) and, when `settings.set_as_default`, makes it the default. A file
// that is empty or holds only blanks and comments gets a fresh config of schema version
// `version_if_empty` (2 for containerd 1.x, 3 for 2.x; 1 to 4 are accepted).
// Idempotent: when the runtime is already there (same name, BinaryName and a runc shim type)
// and the default is as asked, returns the original bytes with `changed` false; so it does,
// with `already_default` set, when the default is asked for and another runtime that runs
// `settings.runtime_path` is the default already. With
// `set_as_default` false the default is left alone, even when it names this runtime.
// The result is parsed again and must mean the original plus exactly these additions.
// Throws ConfigError ("path:line:col: ...") when `original` is not valid TOML, has a schema
// version other than 1 to 4, or is built in a way this edit cannot be spliced into without
// rewriting the user's text: an inline table or a value where a table must go, or (schema 1 and
// 2) a deprecated `default_runtime` table with a type, which would silently override a new
// default_runtime_name. Throws Error when another runtime already uses
// `settings.runtime_name` (for example a gVisor runtime called "nvidia"): it is never
// overwritten; the message suggests --runtime-name. Throws Error if the edit would not mean
// what it should (a bug in this code). `runtime_template` supplies the keys laid over the
// copied runtime (above): a ConfigError naming its path and line when it is not one we can use.
ContainerdEdit configure_containerd_runtime(
    std::string_view original, const std::string& path, int64_t version_if_empty,
    const ContainerdRuntimeSettings& settings,
    const Template& runtime_template = builtin_runtime_template());

// Whether remove_containerd_runtime deletes the runtime's tables (configure added them) or
// keeps them (they were in the file before; only the default is restored).
enum class KeepRuntime { no, yes };

// Whether configure added an explicit runc runtime beside ours (ContainerdEdit::runc_added),
// which remove_containerd_runtime then takes out too, where it still may.
enum class AddedRunc { no, yes };

// For `revert --force`: the inverse of configure_containerd_runtime on `original` (`path` names
// it in errors). Deletes the `<cri>.containerd.runtimes.<runtime_name>` tables (unless
// `keep_runtime`), and where default_runtime_name still names `runtime_name` (otherwise someone
// changed it since, and it stays), sets it back to `previous_default` or, when that is empty,
// deletes the key — and the `[<cri>.containerd]` table with it when that table is the last in
// the file, holds nothing else and follows the runtime's tables (or `keep_runtime`): the one
// configure appends. A file left holding nothing but `version = N` is taken to be one
// configure created from an empty file, and is emptied. With `added_runc`, the
// `<cri>.containerd.runtimes.runc` table goes too, but only while it holds nothing but
// `runtime_type = "io.containerd.runc.v2"` in its own [table] and no runtime but ours is beside
// it (else it is the user's now, or runc would disappear again for containerd 1.x: it stays,
// which changes nothing containerd does). Every other byte stays:
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
                                         KeepRuntime keep_runtime = KeepRuntime::no,
                                         AddedRunc added_runc = AddedRunc::no);

}  // namespace gns::config
