#pragma once
// The site config file, /etc/gpu-node-setup/config.toml on the host (under --root): settings an
// operator or an image bakes in once, so that every run uses them without flags. The flags win
// over it (cli/stage_flags.cpp layers them on top). It is small and strict: every key is known
// here, and anything else is an error at its line, so that a typo is never silently ignored.
//
//   templates = "/etc/gpu-node-setup/templates"   # the site's templates (README.md "Templates")
//   proxy = "http://proxy.example:3128"           # for package tools and key downloads
//   [toolkit]
//   version = "1.17.8-1"                          # pin the toolkit's packages (--toolkit-version)
//   repository = "https://mirror.example/nvidia-container-toolkit/deb/$(ARCH)"
//   key = "https://mirror.example/nvidia-container-toolkit/gpgkey"   # or file:///..., /...
//   [driver]
//   branch = "580"                                # --driver-branch
//   version = "580.95.05-1"                       # --driver-version
//   modules = "open"                              # --driver-modules: open | proprietary
//   packages = ["nvidia-open-580"]                # the site's package names instead of ours
//   repository = "https://mirror.example/cuda/debian12/x86_64/"
//   key = "https://mirror.example/cuda/debian12/x86_64/3bf863cc.pub"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "../host/host_root.hpp"
#include "../settings.hpp"

namespace gns::config {

// Where the site config file is, as a host path.
inline constexpr std::string_view k_site_config_path = "/etc/gpu-node-setup/config.toml";

// What the site config file says; each member is nullopt when the file does not set it.
struct SiteConfig {
  // `templates`: the site's templates directory. Written as a host path (under --root, like
  // the file itself); held here resolved to the path on the machine running the tool, which is
  // what RuntimeSettings::templates_dir wants.
  std::optional<std::filesystem::path> templates_dir;
  // `proxy`: an http(s) proxy URL.
  std::optional<std::string> proxy;
  // The [toolkit] table: version, repository, key (each nullopt when not set).
  ToolkitSettings toolkit;
  // The [driver] table: branch, version, modules, packages, repository, key.
  DriverSettings driver;
};

// Parses `text`, the site config file named `path` in errors; host paths in it are resolved
// under `root`. Throws ConfigError ("path:line:col: ...") when it is not TOML, has a key this
// version does not know, or a value of the wrong type or form (`templates`: an absolute path;
// `repository`: an http(s):// or file: URL; `key`: that or an absolute path inside the root;
// `proxy`: an http(s):// URL; `version`: a package version).
SiteConfig parse_site_config(std::string_view text, const std::string& path,
                             const host::HostRoot& root);

// The site config file of the host at `root`; an empty SiteConfig when there is none.
// Throws as parse_site_config does, and Error when the file exists but cannot be read.
SiteConfig read_site_config(const host::HostRoot& root);

}  // namespace gns::config
