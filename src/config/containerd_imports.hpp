#pragma once
// Internal to containerd_dropin.cpp: the top-level `imports` array of a containerd config — which
// files it makes containerd load, and adding one path to it (and taking it out again) as a
// byte splice in the array's own layout.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "containerd_dropin.hpp"
#include "containerd_toml.hpp"

namespace gns::config::containerd_imports {

// Whether import entry `entry` of the config at `config_path` makes containerd load `file` (an
// absolute path): containerd cleans the entry, takes a relative one from the config's
// directory, and expands it as a glob (Go's filepath.Glob) when it holds a `*`.
bool covers(std::string_view entry, const std::string& config_path, const std::string& file);

// The entries of `doc`'s top-level `imports`, as strings. Throws ConfigError when `imports` is
// not an array of strings.
std::vector<std::string> entries(const containerd_toml::Document& doc);

struct ImportEdit {
  std::string text;  // the new bytes (== the original when nothing was added)
  ContainerdImport added = ContainerdImport::nothing;
};

// `doc` with `file` in its imports, unless an entry already covers it: appended to an existing
// array after its last entry, quoted like it (one per line when the array is written that way,
// trailing comma kept), or as an `imports = ["file"]` line after the last top-level key, which
// is before the first table. A blank `doc` gets `version = <doc.version>` first. Throws
// ConfigError as entries() does.
ImportEdit add_import(const containerd_toml::Document& doc, const std::string& file);

// The inverse of add_import (`added` says what it added: ContainerdImport): `doc` without its last
// `file` entry, or without the whole `imports` line when add_import wrote it and `file` is all it
// holds (then without the `version` line too, for ContainerdImport::file, when nothing else is
// left). `doc`'s text unchanged when no entry is `file`, or when add_import added nothing. Throws
// ConfigError as entries() does.
std::string remove_import(const containerd_toml::Document& doc, const std::string& file,
                          ContainerdImport added);

}  // namespace gns::config::containerd_imports
