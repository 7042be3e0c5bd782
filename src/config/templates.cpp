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

}  // namespace gns::config
