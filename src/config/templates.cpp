#include "templates.hpp"

#include "../error.hpp"
#include "../host/host_root.hpp"

#ifndef GNS_TEMPLATES_DIR
#error "GNS_TEMPLATES_DIR must name the templates directory (src/CMakeLists.txt defines it)"
#endif

namespace gns::config {
namespace {

// Where `cmake --install` puts the templates, relative to the install prefix.
constexpr std::string_view k_installed_relative = "share/gpu-node-setup/templates";

// The running system: templates belong to the tool, so they are read where it is installed,
// whatever --root names.
const host::HostRoot& this_machine() {
  static const host::HostRoot root("/");
  return root;
}

}  // namespace

std::filesystem::path installed_templates_dir() {
  // /proc/self/exe names the binary actually running, wherever it was copied or linked from;
  // its directory's parent is the install prefix (<prefix>/sbin/gpu-node-setup).
  const auto executable = this_machine().resolve("/proc/self/exe");
  const auto installed = executable.parent_path().parent_path() / k_installed_relative;
  if (this_machine().is_directory(installed.string())) return installed;
  return GNS_TEMPLATES_DIR;
}

std::filesystem::path templates_dir(const std::filesystem::path& configured) {
  return configured.empty() ? installed_templates_dir() : std::filesystem::absolute(configured);
}

Template read_template(const std::filesystem::path& configured, std::string_view relative) {
  if (!configured.empty()) {
    const auto site = templates_dir(configured);
    if (!this_machine().is_directory(site.string()))
      throw Error("templates directory " + site.string() +
                  " (--templates, or `templates` in the site config file) is not a directory");
    const std::string path = (site / relative).string();
    if (auto text = this_machine().read_if_exists(path)) return {path, *text};
  }
  const std::string path = (installed_templates_dir() / relative).string();
  auto text = this_machine().read_if_exists(path);
  if (!text)
    throw Error("template " + path + " is missing: gpu-node-setup is not installed completely");
  return {path, *text};
}

namespace {

std::string known_names(const std::map<std::string, std::string>& values) {
  std::string names;
  for (const auto& [name, value] : values) names += (names.empty() ? "{{" : ", {{") + name + "}}";
  return names.empty() ? "none" : names;
}

}  // namespace

std::string render_placeholders(const Template& tpl, const std::map<std::string, std::string>& values) {
  std::string out;
  unsigned line = 1;
  size_t line_start = 0;
  size_t at = 0;
  for (size_t open; (open = tpl.text.find("{{", at)) != std::string::npos;) {
    for (size_t newline; (newline = tpl.text.find('\n', line_start)) != std::string::npos && newline < open;)
      ++line, line_start = newline + 1;
    const auto column = static_cast<unsigned>(open - line_start + 1);
    const size_t close = tpl.text.find("}}", open);
    const size_t line_end = tpl.text.find('\n', open);
    if (close == std::string::npos || (line_end != std::string::npos && close > line_end))
      throw ConfigError(tpl.path, line, column, "\"{{\" is not closed by \"}}\" on its line");
    const std::string name = tpl.text.substr(open + 2, close - open - 2);
    const auto value = values.find(name);
    if (value == values.end())
      throw ConfigError(tpl.path, line, column,
                        "unknown placeholder {{" + name + "}}; this template knows " + known_names(values));
    out.append(tpl.text, at, open - at).append(value->second);
    at = close + 2;
  }
  return out.append(tpl.text, at);
}

}  // namespace gns::config
