#pragma once
// Parsing TOML the user owns (containerd's config.toml, our own config.toml) with errors that
// name the file, line and column.

#include <string>
#include <string_view>
#include <toml++/toml.h>

namespace gns::config {

// Parses `text` as TOML. `path` is how the file is named in errors.
// Throws ConfigError ("path:line:col: message") when it is not valid TOML.
toml::table parse_toml(std::string_view text, const std::string& path);

}  // namespace gns::config
