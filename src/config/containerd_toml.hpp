#pragma once
// Internal to containerd_config.cpp: what a containerd config means (schema version, where the
// CRI runtimes live, which runtime is the default, whether ours is already there) read from
// toml++'s tree and the span scanner's layout together, and the final check that an edit
// means exactly what it should.

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "containerd_config.hpp"
#include "toml_spans.hpp"

namespace gns::config::containerd_toml {

inline constexpr std::string_view k_runc_v2 = "io.containerd.runc.v2";
inline constexpr std::string_view k_linux_v1 = "io.containerd.runtime.v1.linux";

// A config file as both toml++ and the span scanner see it.
struct Document {
  std::string_view text;
  std::string path;  // as named in errors
  toml::table root;
  TomlLayout layout;
  int64_t version = 1;  // the schema version
  bool blank = false;   // no keys and no tables: only blanks and comments, or nothing
};

// Parses and scans `text`. A blank file has schema `version_if_blank`; any other without a
// `version` key has schema 1. Throws ConfigError for invalid TOML or an unknown version.
Document read_document(std::string_view text, const std::string& path, int64_t version_if_blank);

// Where the edit's keys live for one schema version and runtime name.
struct CriPaths {
  KeyPath containerd;  // <cri>.containerd
  KeyPath runtimes;    // <cri>.containerd.runtimes
  KeyPath runtime;     // <cri>.containerd.runtimes.<name>
};
CriPaths cri_paths(int64_t version, const std::string& runtime_name);

KeyPath join(KeyPath base, std::initializer_list<std::string_view> more);
bool starts_with(const KeyPath& path, const KeyPath& prefix);
bool iequals(std::string_view a, std::string_view b);
const toml::node* find_node(const toml::table& root, const KeyPath& path);
// The string at `path`, or "" when there is none.
std::string string_at(const toml::table& root, const KeyPath& path);
bool is_empty_table(const toml::table& root, const KeyPath& path);
// The first line-level or inline pair whose full path is `path`.
const TomlKeyValue* find_pair(const TomlLayout& layout, const KeyPath& path);
// The index of the `[path]` header, if the file has one.
std::optional<size_t> find_header(const TomlLayout& layout, const KeyPath& path);

// The table at `path` below `root`, created (with its parents) when absent. Throws Error (a bug)
// when a part of it is not a table.
toml::table& table_at(toml::table& root, const KeyPath& path);

// `text`, which gpu-node-setup wrote for `path`, parsed. Throws Error (a bug) if it is not TOML.
toml::table parse_written(const std::string& text, const std::string& path);

// Throws Error (a bug) unless `actual`, what an edit of `path` means, is `expected`.
void require_same(const toml::table& actual, const toml::table& expected, const std::string& path);

// Throws ConfigError at `node`'s position (unknown when null) in `doc`.
[[noreturn]] void throw_at(const Document& doc, const toml::node* node, const std::string& message);

// Throws ConfigError when some part of `path` exists but is not a plain table: a value, an
// array of tables or an inline table, none of which `what` can be added under as a [table].
void check_table_path(const Document& doc, const KeyPath& path, const std::string& what);

// default_runtime_name, when set. Throws ConfigError when it is not a string.
std::optional<std::string> default_runtime_name(const Document& doc, const CriPaths& paths);

// True when disabled_plugins switches the CRI plugin off.
bool cri_disabled(const Document& doc);

// Throws ConfigError when a deprecated `default_runtime` table with a type would override any
// default_runtime_name we set (containerd 1.x, schemas 1 and 2).
void refuse_deprecated_default(const Document& doc, const CriPaths& paths);

// True when `paths.runtime` is already this runtime. Throws Error when it is another one.
bool has_our_runtime(const Document& doc, const CriPaths& paths,
                     const ContainerdRuntimeSettings& settings);

// The name of the runtime containerd uses by default (default_runtime_name, else the built-in
// `runc`) when that is not `settings.runtime_name` and already runs `settings.runtime_path` in a
// runc shim: the NVIDIA runtime is the default already, under another name. Nothing when a
// typed deprecated `default_runtime` table (schemas 1 and 2) is what containerd uses instead.
std::optional<std::string> default_running_binary(const Document& doc, const CriPaths& paths,
                                                  const ContainerdRuntimeSettings& settings);

// The runtime the new one copies, as containerd would pick its default (see the header of
// containerd_config.hpp), else one that runs `settings.runtime_path` already; nothing when
// there is no runc runtime to copy.
std::optional<KeyPath> inheritance_source(const Document& doc, const CriPaths& paths,
                                          const ContainerdRuntimeSettings& settings);

// `<cri>.containerd.runtimes.runc`.
KeyPath runc_path(const CriPaths& paths);

// True when adding runtime `runtime_name` to `doc` would take away containerd's built-in runc:
// the file has no `<cri>.containerd.runtimes` table at all (runc exists only as a default), and
// it is a schema 1 or 2 file, which containerd 1.x reads. Its decoder (go-toml v1) replaces the
// built-in runtimes map with the file's as soon as the file has one; containerd 2.x's (go-toml
// v2) keeps the entries the file does not name, and schemas 3 and 4 are read by 2.x only.
bool needs_explicit_runc(const Document& doc, const CriPaths& paths,
                         const std::string& runtime_name);

// True when `doc`'s runc runtime is still the one configure added beside ours
// (ContainerdEdit::runc_added), so that revert may take it out: it holds exactly
// `runtime_type = "io.containerd.runc.v2"`, written as its own [table], and no other runtime
// than ours (which goes unless `keep_runtime`) is left beside it — runc would otherwise
// disappear again for containerd 1.x.
bool runc_is_removable(const Document& doc, const CriPaths& paths, KeepRuntime keep_runtime);

// Throws Error unless `edit.text` means `doc` plus `runtime` (when `edit.runtime_added`), the
// explicit runc (when `edit.runc_added`), the default (when `set_default`) and, for a blank
// file, the version.
void check_configured(const Document& doc, const CriPaths& paths,
                      const ContainerdRuntimeSettings& settings, bool set_default,
                      const ContainerdEdit& edit, const toml::table& runtime);

// Throws Error unless `text` means `doc` without the runtime (unless `keep_runtime`), without
// runc (when `remove_runc`) and with the default restored, ignoring tables left empty.
void check_removed(const Document& doc, const CriPaths& paths,
                   const std::optional<std::string>& previous_default, KeepRuntime keep_runtime,
                   bool remove_runc, const std::string& text);

}  // namespace gns::config::containerd_toml
