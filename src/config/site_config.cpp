#include "site_config.hpp"

#include <algorithm>
#include <cctype>

#include "../error.hpp"
#include "toml_document.hpp"

namespace gns::config {
namespace {

[[noreturn]] void fail_at(const std::string& path, const toml::source_region& where,
                          const std::string& message) {
  throw ConfigError(path, where.begin.line, where.begin.column, message);
}

// The host path that key `key` holds: a string starting with '/'.
std::string host_path_value(const toml::node& value, const std::string& key,
                            const std::string& path) {
  const auto* text = value.as_string();
  if (!text || text->get().empty() || text->get().front() != '/')
    fail_at(path, value.source(),
            key + " must be an absolute host path in quotes (under --root), e.g. " + key +
                " = \"/etc/gpu-node-setup/" + key + "\"");
  return text->get();
}

bool starts_with_any(const std::string& text, std::initializer_list<std::string_view> prefixes) {
  for (auto prefix : prefixes)
    if (text.starts_with(prefix)) return true;
  return false;
}

// The string value of `key`, which `valid` must accept; else an error saying what `form` is.
std::string checked_string(const toml::node& value, const std::string& key, const std::string& path,
                           bool (*valid)(const std::string&), const std::string& form) {
  const auto* text = value.as_string();
  if (!text || !valid(text->get()))
    fail_at(path, value.source(), "toolkit." + key + " must be " + form);
  return text->get();
}

bool has_no_space(const std::string& text) { return text.find_first_of(" \t\n") == std::string::npos; }

bool is_url(const std::string& text) {
  return starts_with_any(text, {"https://", "http://", "file:/"}) && has_no_space(text);
}
bool is_key_source(const std::string& text) { return is_url(text) || text.starts_with('/'); }
bool is_proxy(const std::string& text) {
  return starts_with_any(text, {"http://", "https://"}) && has_no_space(text);
}
// A Debian or rpm version: what apt-get install NAME=VERSION and dnf install NAME-VERSION take.
bool is_version(const std::string& text) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view(".+~:-_").find(c) != std::string_view::npos;
  });
}

ToolkitSettings parse_toolkit_table(const toml::node& node, const std::string& path) {
  const auto* table = node.as_table();
  if (!table) fail_at(path, node.source(), "toolkit must be a table: [toolkit]");
  ToolkitSettings toolkit;
  for (auto&& [key, value] : *table) {
    const std::string name(key.str());
    if (name == "version")
      toolkit.version = checked_string(value, name, path, is_version, "a package version in quotes, e.g. \"1.17.8-1\"");
    else if (name == "repository")
      toolkit.repository_url = checked_string(value, name, path, is_url, "an https://, http:// or file: URL in quotes");
    else if (name == "key")
      toolkit.key_url = checked_string(value, name, path, is_key_source,
                                       "an https://, http:// or file: URL, or an absolute path under --root, in quotes");
    else if (name == "proxy")
      toolkit.proxy = checked_string(value, name, path, is_proxy, "an http:// or https:// URL in quotes");
    else
      fail_at(path, key.source(), "unknown key \"toolkit." + name + "\" (known: version, repository, key, proxy)");
  }
  return toolkit;
}

}  // namespace

SiteConfig parse_site_config(std::string_view text, const std::string& path,
                             const host::HostRoot& root) {
  const toml::table table = parse_toml(text, path);
  SiteConfig site;
  for (auto&& [key, value] : table) {
    const std::string name(key.str());
    if (name == "templates")
      site.templates_dir = root.resolve(host_path_value(value, name, path));
    else if (name == "toolkit")
      site.toolkit = parse_toolkit_table(value, path);
    else
      fail_at(path, key.source(), "unknown key \"" + name + "\" (known: templates, [toolkit])");
  }
  return site;
}

SiteConfig read_site_config(const host::HostRoot& root) {
  auto text = root.read_if_exists(k_site_config_path);
  if (!text) return {};
  return parse_site_config(*text, std::string(k_site_config_path), root);
}

}  // namespace gns::config
