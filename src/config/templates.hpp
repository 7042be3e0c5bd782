#pragma once
// Where the text the stages render comes from: templates/ (DESIGN.md "Layout"). For now the
// directory is fixed when the tool is built: GNS_TEMPLATES_DIR, the source tree's templates/.
// `cmake --install` also copies them to share/gpu-node-setup/templates; reading from there,
// and a --templates override, come later.

#include <filesystem>
#include <string>
#include <string_view>

namespace gns::config {

// The directory templates are read from (absolute).
std::filesystem::path templates_dir();

// The bytes of template `relative` ("crio/99-nvidia.conf") under templates_dir(). Read on the
// machine running the tool, never under --root: templates are the tool's, not the host's.
// Throws Error when it is missing or cannot be read.
std::string read_template(std::string_view relative);

}  // namespace gns::config
