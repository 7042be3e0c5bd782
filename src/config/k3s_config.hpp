#pragma once
// Setting `default-runtime` in k3s's (or RKE2's) config.yaml, and taking it out again, as
// surgical byte edits. k3s reads its flags from that YAML file's top-level keys and writes
// containerd's config.toml afresh at every start, so config.yaml is where the default runtime
// is chosen; every byte of it we do not own stays as the user wrote it: comments, blank lines,
// key order, quoting, indentation, CRLF line endings, a missing final newline.
//
// What we own: the value of the top-level `default-runtime` key, replaced in place in the
// quoting it had; or, when the file has no such key, the lines of templates/k3s/config.yaml
// appended at its end (indented like its top-level keys, in its line ending; a file without a
// final newline keeps having none). An empty or absent file becomes just those lines.
// The functions here are pure: text in, text out. YAML is read with libyaml, whose event marks
// give the byte spans to splice and the line:col of errors.

#include <optional>
#include <string>
#include <string_view>

namespace gns::config {

// What set_k3s_default_runtime or remove_k3s_default_runtime made of a config.yaml.
struct K3sEdit {
  std::string text;  // the new bytes (== the original when nothing changed)
  bool changed = false;
  // The top-level default-runtime before this edit, if it was set.
  std::optional<std::string> previous_default;
  // The bytes this edit appended at the end of the file (the key was absent); empty when it
  // replaced a value in place. Record it: remove takes exactly these bytes out again.
  std::string appended;
};

// Renders `template_text` (templates/k3s/config.yaml; `template_path` names it in errors) for
// runtime `runtime_name`: its one placeholder is {{runtime_name}}. The result ends with a
// newline. Throws Error when `runtime_name` cannot stand unquoted as a YAML string (letters,
// digits, '.', '_' and '-', starting with a letter, and not a YAML 1.1 boolean or null word),
// and ConfigError ("template_path:line:col: ...") for another placeholder, or a result that is
// not YAML, or is not a block mapping whose only key is `default-runtime` with the value
// `runtime_name`, or holds a document marker (`---`, `...`).
std::string render_k3s_addition(std::string_view template_text, const std::string& template_path,
                                const std::string& runtime_name);

// The top-level `default-runtime` of config.yaml `text` (`path` names it in errors); nullopt
// when it is not set there. Throws ConfigError as set_k3s_default_runtime does.
std::optional<std::string> k3s_default_runtime(std::string_view text, const std::string& path);

// Makes `runtime_name` k3s's default runtime in config.yaml `original` (`path` names it in
// errors): the value of a top-level `default-runtime` is replaced in place, keeping its quoting
// (an empty value gets " <name>" after its colon); with no such key, `addition`
// (render_k3s_addition's result) is appended. Idempotent: when default-runtime already is
// `runtime_name`, returns the original bytes with `changed` false.
// Throws ConfigError ("path:line:col: ...") when `original` is not YAML libyaml accepts, holds
// more than one document, has a top level that is not a mapping (a list, a scalar) or is a flow
// mapping (`{...}`), sets default-runtime twice, gives it a value that is not a plain or quoted
// string (a list, a block scalar, an alias, an anchored or tagged value), or, when the key must
// be appended, ends its document with `...`. Throws Error if the edit would not mean what it
// should (a bug in this code).
K3sEdit set_k3s_default_runtime(std::string_view original, const std::string& path,
                                const std::string& runtime_name, std::string_view addition);

// For `revert --force`: the inverse of set_k3s_default_runtime on `original` (`path` names it in
// errors). Where default-runtime still names `runtime_name` (otherwise someone changed it since,
// and it stays), its value becomes `previous_default` again (quoted as the value is now), or,
// when that is nullopt, the key is taken out: `appended` when the file still ends with those
// bytes, else the key's own line(s) alone. remove(set(x)) gives back x.
// Throws ConfigError as set_k3s_default_runtime does, and when the key to take out shares its
// line with something else. Throws Error if the edit would not mean what it should.
K3sEdit remove_k3s_default_runtime(std::string_view original, const std::string& path,
                                   const std::string& runtime_name,
                                   const std::optional<std::string>& previous_default,
                                   std::string_view appended);

}  // namespace gns::config
