#pragma once
// Where the text the stages render comes from: templates/ (DESIGN.md "Layout"), or a site's
// own directory (--templates). Today the installed default is the source tree's templates/
// (GNS_TEMPLATES_DIR, fixed when the tool is built).

#include <filesystem>
#include <string>
#include <string_view>

namespace gns::config {

// The directory templates are read from: `configured` (RuntimeSettings::templates_dir) when
// it is not empty, else the installed templates.
std::filesystem::path templates_dir(const std::filesystem::path& configured);

// A template's text and the path that names it in errors.
struct Template {
  std::string path;
  std::string text;
};

// Template `relative` ("crio/99-nvidia.conf") under templates_dir(configured). Read on the
// machine running the tool, never under --root: templates are the tool's, not the host's.
// Throws Error when it is missing or cannot be read.
Template read_template(const std::filesystem::path& configured, std::string_view relative);

}  // namespace gns::config
