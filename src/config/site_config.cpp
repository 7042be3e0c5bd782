#include "site_config.hpp"

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

}  // namespace

SiteConfig parse_site_config(std::string_view text, const std::string& path,
                             const host::HostRoot& root) {
  const toml::table table = parse_toml(text, path);
  SiteConfig site;
  for (auto&& [key, value] : table) {
    const std::string name(key.str());
    if (name == "templates")
      site.templates_dir = root.resolve(host_path_value(value, name, path));
    else
      fail_at(path, key.source(), "unknown key \"" + name + "\" (known: templates)");
  }
  return site;
}

SiteConfig read_site_config(const host::HostRoot& root) {
  auto text = root.read_if_exists(k_site_config_path);
  if (!text) return {};
  return parse_site_config(*text, std::string(k_site_config_path), root);
}

}  // namespace gns::config
