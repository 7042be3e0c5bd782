#pragma once
// Where the text the stages render comes from (DESIGN.md "Layout": templates/). The installed
// templates ship with the tool; a site may override any of them with a directory of its own
// (--templates, or `templates` in /etc/gpu-node-setup/config.toml) that holds only the files
// it changes: each template is looked up there first, then among the installed ones.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace gns::config {

// The installed templates: <prefix>/share/gpu-node-setup/templates for the running executable
// <prefix>/sbin/gpu-node-setup (or bin/), when that directory exists; else the source tree's
// templates/ (GNS_TEMPLATES_DIR), which is what a binary run from its build tree reads.
std::filesystem::path installed_templates_dir();

// The directory templates are looked up in first: `configured` (RuntimeSettings::templates_dir,
// made absolute) when it is not empty, else installed_templates_dir().
std::filesystem::path templates_dir(const std::filesystem::path& configured);

// A template's text and the path that names it in errors.
struct Template {
  std::string path;
  std::string text;
};

// Template `relative` ("crio/99-nvidia.conf"): the site's copy in `configured` when that
// directory has it, else the installed one (a site overrides template by template). Read on
// the machine running the tool, never under --root: `configured` is already a path here.
// Throws Error when `configured` is not empty and not a directory (a typo would otherwise
// silently mean the installed templates), or when the template is missing or unreadable.
Template read_template(const std::filesystem::path& configured, std::string_view relative);

// `tpl`'s text with each {{name}} replaced by `values`' value for it, verbatim. Throws
// ConfigError at the template's path, line and column for a placeholder `values` lacks (the
// message lists those it has) or a "{{" never closed.
std::string render_placeholders(const Template& tpl, const std::map<std::string, std::string>& values);

}  // namespace gns::config
