#pragma once
// The runtime template: templates/containerd/runtime.toml, a TOML fragment whose keys are
// relative to `<cri>.containerd.runtimes.<name>` and are laid over the runtime the new one
// copies from containerd's default (see containerd_config.hpp), so that a site can add keys
// (`privileged_without_host_devices = false`, `options.SystemdCgroup = true`) without a patch.
// It may use, inside "basic strings" (each is escaped as such):
//
//   {{runtime_name}}   the runtime's name (--runtime-name)
//   {{runtime_path}}   the NVIDIA runtime's binary (--runtime-path)
//
// Any other {{...}} is an error. The rendered fragment must set `options.BinaryName` (in any
// case) to {{runtime_path}}, and a `runtime_type` it sets must be a runc shim: the NVIDIA
// runtime wraps runc, and without its BinaryName containerd would run plain runc.

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "templates.hpp"
#include "toml_spans.hpp"

namespace gns::config {

// The relative path of the runtime template under the templates directory.
inline constexpr std::string_view k_containerd_runtime_template = "containerd/runtime.toml";

// What the stock template means, for callers that read no template (library users, tests):
// only `options.BinaryName = "{{runtime_path}}"`. tests/unit/config/containerd_template_test.cpp
// checks that templates/containerd/runtime.toml renders the same keys.
const Template& builtin_runtime_template();

// One key of a rendered template, in file order.
struct RuntimeTemplateKey {
  KeyPath path;                       // relative to the runtime: {"options", "BinaryName"}
  std::string text;                   // its value as the rendered template writes it
  std::optional<std::string> string;  // the value, when it is a string (written in the
                                      // quote style of the file it goes in)
  unsigned line = 0;                  // its template line
};

// A rendered runtime template.
struct RuntimeFragment {
  std::string path;                      // the template's path, for errors
  toml::table table;                     // what it means
  std::vector<RuntimeTemplateKey> keys;  // its values (empty tables left out), in file order

  // The runtime_type it sets, if it sets one.
  std::optional<std::string> runtime_type() const;
};

// Renders `runtime_template` for the runtime `runtime_name` running `runtime_path`. Throws
// ConfigError ("template-path:line[:col]: ...", the template's own line) for an unknown or
// unclosed placeholder, a result that is not TOML, an array of tables, an `options` that is not
// a table, a runtime_type that is not a runc shim, or no options.BinaryName equal to
// `runtime_path`: all before anything is written.
RuntimeFragment render_runtime_template(const Template& runtime_template,
                                        const std::string& runtime_name,
                                        const std::string& runtime_path);

}  // namespace gns::config
