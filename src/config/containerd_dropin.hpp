#pragma once
// The NVIDIA runtime for containerd in a drop-in of our own, /etc/containerd/conf.d/99-nvidia.toml,
// that config.toml imports — and when that is the right place for it.
//
// containerd reads config.toml, then each file its top-level `imports` names (a `*` globs), and
// merges each over what it has. How it merges decides everything:
//   - containerd 1.x and 2.0 replace a plugin's whole table with an imported file's
//     (mergeConfig: `to.Plugins[k] = v`). A drop-in holding only our runtime would wipe out
//     every other CRI setting of config.toml (sandbox_image, runc's SystemdCgroup, registry
//     mirrors); one holding a copy of the whole CRI table (nvidia-ctk's way) freezes that copy:
//     every later edit of config.toml's CRI section silently does nothing. So on these versions
//     we edit config.toml in place (containerd_config.hpp), and `--drop-in` is refused with
//     that reason: the one safe layout there is the in-place edit, which is also what it gives.
//   - containerd 2.1 and later merge imported tables key by key, so a drop-in holding only our
//     runtime and default means config.toml plus exactly those: the layout we use there by
//     default (containerd 2.1's own default config imports /etc/containerd/conf.d/*.toml).
//
// What we write in drop-in mode, in this order (a crash between the two leaves no import of a
// missing file, which containerd would refuse to start with):
//   1. the drop-in, wholly ours: a comment, `version = N` (config.toml's: containerd refuses a
//      drop-in of a higher version and migrates a lower one on its own), the runtime's tables
//      as configure_containerd_runtime would append them to an empty file — copying the default
//      runtime of config.toml (so SystemdCgroup carries over), with the runtime template's
//      keys laid over it — and, when asked, `[<cri>.containerd] default_runtime_name`;
//   2. the import in config.toml, as a byte splice: the drop-in's own path (not its directory's
//      `*.toml`, which would start loading whatever else lies there) appended to an existing
//      top-level `imports` array in its quoting and layout, or an `imports = ["..."]` line after
//      the last top-level key; nothing at all when an entry already covers the path (the glob
//      of containerd 2.1's default config does).
// The drop-in holds no explicit runc runtime, unlike an in-place edit of a schema 1 or 2 file
// that has no runtimes (containerd_config.hpp): only containerd 2.1 and later read it, and
// they decode the merged CRI table (go-toml v2) over the plugin's built-in config, keeping the
// built-in runc where no file names it, so a runtimes table of ours does not replace it.
// When config.toml's default runtime already runs the NVIDIA runtime under another name, and
// the runtime is to be the default, there is nothing to write (as in place: `already_default`).
// A version 1 config (no `version` key) is refused: its plugins have short names a version 2
// drop-in does not share, and containerd refuses a drop-in whose version is higher than the
// file importing it. So is a config.toml that is the drop-in itself (it would import itself).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "containerd_config.hpp"
#include "templates.hpp"

namespace gns::config {

// Where the drop-in goes (a host path).
inline constexpr std::string_view k_containerd_dropin = "/etc/containerd/conf.d/99-nvidia.toml";

// A containerd release, as `containerd --version` names it.
struct ContainerdVersion {
  int major = 0;
  int minor = 0;
  auto operator<=>(const ContainerdVersion&) const = default;
};

// The version in `containerd --version` output: "containerd github.com/containerd/containerd
// v2.1.3 <commit>" upstream, "... 1.6.20~ds1 1.6.20~ds1-1+deb12u3" from Debian. Nothing when
// the third word is not a version.
std::optional<ContainerdVersion> parse_containerd_version(std::string_view output);

// Whether containerd `version` merges an imported file's plugin tables key by key (2.1 on),
// which a drop-in holding only our runtime needs.
bool merges_imports_key_by_key(ContainerdVersion version);

// What the stage reads off config.toml to choose between the layouts.
struct ContainerdConfigFacts {
  bool blank = false;   // empty, or only blanks and comments
  int64_t version = 1;  // its schema version (for a blank file: `version_if_blank`)
  // It already holds the runtime, in place, or (when it is to be the default) its default
  // runtime already runs the NVIDIA runtime under another name.
  bool has_runtime = false;
};

// Reads `text` (config.toml; `path` names it in errors). Throws ConfigError for invalid TOML or
// an unknown version, Error when another runtime already has `settings.runtime_name` (as
// configure_containerd_runtime does).
ContainerdConfigFacts read_containerd_config_facts(std::string_view text, const std::string& path,
                                                   int64_t version_if_blank,
                                                   const ContainerdRuntimeSettings& settings);

// What the import in config.toml is: nothing (an entry covered the drop-in already), an entry
// appended to the user's `imports`, our own `imports` line, or that line and `version = N`
// written into a blank file. revert --force needs to know which it undoes.
enum class ContainerdImport { nothing, entry, line, file };

// "nothing", "entry", "line", "file" (as the undo record keeps it), and back.
std::string_view to_string(ContainerdImport import);
std::optional<ContainerdImport> parse_containerd_import(std::string_view word);

// What configure_containerd_dropin made.
struct ContainerdDropin {
  std::string text;  // the drop-in's bytes; empty when `config.already_default`
  // config.toml with the import (`config.changed` false when an entry covers the drop-in),
  // its schema version, default_runtime_name before, and whether it disables the CRI plugin.
  ContainerdEdit config;
  ContainerdImport import = ContainerdImport::nothing;
  std::vector<std::string> other_imports;  // config.toml's imports that are not the drop-in
};

// The drop-in `dropin_path` for config.toml `config_text` (`config_path`; a blank one is taken
// as schema `version_if_blank`, 2 to 4) and the runtime `settings` describe, with the keys of
// `runtime_template` laid over the copied runtime; and config.toml importing it. The drop-in
// and the result of merging it over config.toml key by key are parsed again and must mean
// config.toml plus the runtime (and default) exactly. When `settings.set_as_default` and
// config.toml's default runtime already runs `settings.runtime_path`, nothing is made:
// `config.already_default` names it, `text` is empty and config.toml unchanged.
// Throws Error when config.toml is a version 1 config or is `dropin_path` itself, or another
// runtime already has the name (as configure_containerd_runtime does); ConfigError for invalid
// TOML, an `imports` that is not an array of strings, a typed deprecated `default_runtime`
// (schema 2) when the runtime is to be the default, or an unusable runtime template.
ContainerdDropin configure_containerd_dropin(
    std::string_view config_text, const std::string& config_path, const std::string& dropin_path,
    int64_t version_if_blank, const ContainerdRuntimeSettings& settings,
    const Template& runtime_template = builtin_runtime_template());

// For `revert --force` of config.toml: `config_text` without the import configure added
// (`import` says what that was; the user's own entries stay, and a glob that covered the
// drop-in was never ours). Unchanged when the import is no longer there. Throws ConfigError
// for invalid TOML or an `imports` that is not an array of strings.
ContainerdEdit remove_containerd_import(std::string_view config_text,
                                        const std::string& config_path,
                                        const std::string& dropin_path, ContainerdImport import);

}  // namespace gns::config
