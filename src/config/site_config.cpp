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

// The string value of `key` (its full name: "toolkit.version"), which `valid` must accept;
// else an error saying what `form` it must have.
std::string checked_string(const toml::node& value, const std::string& key, const std::string& path,
                           bool (*valid)(const std::string&), const std::string& form) {
  const auto* text = value.as_string();
  if (!text || !valid(text->get())) fail_at(path, value.source(), key + " must be " + form);
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
bool is_branch(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}
bool is_modules(const std::string& text) { return text == "open" || text == "proprietary"; }
// A package name as apt, dnf and zypper accept it.
bool is_package_name(const std::string& text) {
  return !text.empty() && std::isalnum(static_cast<unsigned char>(text.front())) &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || std::string_view(".+-_").find(c) != std::string_view::npos;
         });
}

constexpr const char* k_version_form = "a package version in quotes, e.g. \"1.17.8-1\"";
constexpr const char* k_url_form = "an https://, http:// or file: URL in quotes";
constexpr const char* k_key_form = "an https://, http:// or file: URL, or an absolute path under --root, in quotes";

const toml::table& table_of(const toml::node& node, const std::string& name, const std::string& path) {
  const auto* table = node.as_table();
  if (!table) fail_at(path, node.source(), name + " must be a table: [" + name + "]");
  return *table;
}

ToolkitSettings parse_toolkit_table(const toml::node& node, const std::string& path) {
  ToolkitSettings toolkit;
  for (auto&& [key, value] : table_of(node, "toolkit", path)) {
    const std::string name = "toolkit." + std::string(key.str());
    if (name == "toolkit.version")
      toolkit.version = checked_string(value, name, path, is_version, k_version_form);
    else if (name == "toolkit.repository")
      toolkit.repository_url = checked_string(value, name, path, is_url, k_url_form);
    else if (name == "toolkit.key")
      toolkit.key_url = checked_string(value, name, path, is_key_source, k_key_form);
    else
      fail_at(path, key.source(), "unknown key \"" + name + "\" (known: version, repository, key)");
  }
  return toolkit;
}

std::vector<std::string> package_list(const toml::node& value, const std::string& path) {
  const auto* array = value.as_array();
  if (!array || array->empty())
    fail_at(path, value.source(), "driver.packages must be a non-empty array of package names, e.g. [\"nvidia-open-580\"]");
  std::vector<std::string> names;
  for (const auto& item : *array)
    names.push_back(checked_string(item, "each of driver.packages", path, is_package_name, "a package name in quotes"));
  return names;
}

void parse_driver_table(const toml::node& node, const std::string& path, SiteConfig& site) {
  auto& driver = site.driver;
  for (auto&& [key, value] : table_of(node, "driver", path)) {
    const std::string name = "driver." + std::string(key.str());
    if (name == "driver.branch")
      driver.branch = checked_string(value, name, path, is_branch, "a branch number in quotes, e.g. \"580\"");
    else if (name == "driver.version")
      driver.version = checked_string(value, name, path, is_version, k_version_form);
    else if (name == "driver.modules") {
      const auto modules = checked_string(value, name, path, is_modules, "\"open\" or \"proprietary\"");
      driver.modules = modules == "open" ? DriverModules::open : DriverModules::proprietary;
    } else if (name == "driver.packages")
      driver.packages = package_list(value, path);
    else if (name == "driver.repository")
      driver.repository_url = checked_string(value, name, path, is_url, k_url_form);
    else if (name == "driver.key")
      driver.key_url = checked_string(value, name, path, is_key_source, k_key_form);
    else
      fail_at(path, key.source(), "unknown key \"" + name + "\" (known: branch, version, modules, packages, repository, key)");
  }
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
    else if (name == "proxy")
      site.proxy = checked_string(value, name, path, is_proxy, "an http:// or https:// URL in quotes");
    else if (name == "toolkit")
      site.toolkit = parse_toolkit_table(value, path);
    else if (name == "driver")
      parse_driver_table(value, path, site);
    else
      fail_at(path, key.source(), "unknown key \"" + name + "\" (known: templates, proxy, [toolkit], [driver])");
  }
  return site;
}

SiteConfig read_site_config(const host::HostRoot& root) {
  auto text = root.read_if_exists(k_site_config_path);
  if (!text) return {};
  return parse_site_config(*text, std::string(k_site_config_path), root);
}

}  // namespace gns::config
