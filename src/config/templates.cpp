#include "templates.hpp"

#include "../error.hpp"
#include "../host/host_root.hpp"

#ifndef GNS_TEMPLATES_DIR
#error "GNS_TEMPLATES_DIR must name the templates directory (src/CMakeLists.txt defines it)"
#endif

namespace gns::config {

std::filesystem::path templates_dir() { return GNS_TEMPLATES_DIR; }

std::string read_template(std::string_view relative) {
  const std::string path = (templates_dir() / relative).string();
  // The running system's root: a template is read where the tool is installed, whatever --root.
  auto text = host::HostRoot("/").read_if_exists(path);
  if (!text)
    throw Error("template " + path + " is missing: gpu-node-setup is not installed completely");
  return *text;
}

}  // namespace gns::config
