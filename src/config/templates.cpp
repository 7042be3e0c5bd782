#include "templates.hpp"

#include "../error.hpp"
#include "../host/host_root.hpp"

#ifndef GNS_TEMPLATES_DIR
#error "GNS_TEMPLATES_DIR must name the templates directory (src/CMakeLists.txt defines it)"
#endif

namespace gns::config {

std::filesystem::path templates_dir(const std::filesystem::path& configured) {
  return configured.empty() ? std::filesystem::path(GNS_TEMPLATES_DIR) : configured;
}

Template read_template(const std::filesystem::path& configured, std::string_view relative) {
  const std::string path = (templates_dir(configured) / relative).string();
  // The running system's root: a template is read where the tool is installed, whatever --root.
  auto text = host::HostRoot("/").read_if_exists(path);
  if (!text)
    throw Error("template " + path + " is missing: gpu-node-setup is not installed completely");
  return {path, *text};
}

}  // namespace gns::config
