#pragma once
// The CRI-O drop-in that holds our runtime (/etc/crio/crio.conf.d/99-nvidia.conf). CRI-O reads
// crio.conf and then every file in crio.conf.d in lexical order, later values winning, so our
// runtime table and the default live in a file of our own and the user's files are never
// rewritten. The text is rendered from templates/crio/99-nvidia.conf (the installed one or a
// site's copy: config/templates.hpp), which may use:
//
//   {{runtime_name}}         the runtime's name; a bare TOML key, so it fits a table header
//                            and a "basic string" alike
//   {{runtime_path}}         the runtime's binary, escaped for use inside a "basic string"
//   {{inherited_options}}    alone on its line: one `key = value` line per option copied from
//                            the current default runtime, sorted by key; none drops the line
//   {{#set_as_default}} ... {{/set_as_default}}
//                            each alone on its line: the lines between are kept only when the
//                            runtime is made the default
//
// Any other {{...}} is an error. The functions here are pure: text and tables in, text out.
//
// The drop-in's path may already hold a file of the user's (the NVIDIA device plugin's README
// has one write /etc/crio/crio.conf.d/99-nvidia.conf), and the runtime stage must tell that
// from a drop-in we wrote under other settings, which it rewrites, without the journal: every
// drop-in we render begins with the line k_crio_dropin_marker. The shipped template starts
// with it; a site's template that does not gets it as an extra first line.

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <string_view>

namespace gns::config {

// The start of the first line of every drop-in gpu-node-setup writes.
inline constexpr std::string_view k_crio_dropin_marker = "# Written by gpu-node-setup";

// Whether `text` (a file's bytes) is a drop-in gpu-node-setup wrote: it begins with
// k_crio_dropin_marker. A copy of ours that the user kept counts as ours.
bool is_our_crio_dropin(std::string_view text);

struct CrioDropin {
  std::string runtime_name = "nvidia";
  std::string runtime_path = "/usr/bin/nvidia-container-runtime";
  bool set_as_default = true;
  toml::table inherited_options;  // from crio_base_runtime(); values of any TOML type
};

// Renders `template_text` (named `template_name` in errors) for `dropin`, and checks that the
// result is TOML that gives runtime `runtime_name` the path `runtime_path` (and makes it the
// default when asked). The text begins with k_crio_dropin_marker, added as a first line of its
// own when the template does not begin with it. Throws Error when `runtime_name` is not a bare key (letters, digits, '_'
// and '-'), ConfigError ("template_name:line: ...", the template's line) for an unknown
// placeholder, an unbalanced block or a rendered text that is not TOML or lacks the runtime.
std::string render_crio_dropin(std::string_view template_text, const std::string& template_name,
                               const CrioDropin& dropin);

// Layers `from` over `into` as CRI-O layers a later config file over the earlier ones: a key
// of `from` replaces the same key of `into`, except that two tables are merged key by key.
void merge_crio_config(toml::table& into, const toml::table& from);

// `crio.runtime.default_runtime` in `config`; nullopt when it is not set there (CRI-O then
// uses its built-in default).
std::optional<std::string> crio_default_runtime(const toml::table& config);

// The runtime a new runtime copies its options from, and those options.
struct CrioBaseRuntime {
  std::string name;
  toml::table options;
};

// Picks the runtime to copy from as nvidia-ctk does: the default runtime of `config` (unless
// its name starts with "nvidia" or is `runtime_name`), else runc, else crun; the first of them
// that has a `crio.runtime.runtimes.<name>` table in `config`. Its options leave out the keys
// that choose the binary, which are ours (runtime_path, runtime_type) or would bypass it
// (platform_runtime_paths, inherit_default_runtime). nullopt when none has a table.
std::optional<CrioBaseRuntime> crio_base_runtime(const toml::table& config,
                                                 std::string_view runtime_name);

}  // namespace gns::config
