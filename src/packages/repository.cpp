#include "repository.hpp"

#include "../config/templates.hpp"
#include "../error.hpp"

namespace gns::packages {
namespace {

constexpr std::string_view k_armour_header = "-----BEGIN PGP PUBLIC KEY BLOCK-----";

// A binary OpenPGP public key starts with a public-key packet: tag 6, in the old format
// (0x98, 0x99, 0x9a: one, two or four length bytes) or the new one (0xc6).
bool is_binary_key(const std::string& key) {
  if (key.empty()) return false;
  const auto first = static_cast<unsigned char>(key.front());
  return first == 0x98 || first == 0x99 || first == 0x9a || first == 0xc6;
}

// The start of `bytes`, printable, for a message about what came instead of a key.
std::string preview(const std::string& bytes) {
  std::string out;
  for (char c : bytes.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '.';
  return out;
}

}  // namespace

std::string repository_file_path(Family family, const std::string& id) {
  switch (family) {
    case Family::apt: return "/etc/apt/sources.list.d/" + id + ".list";
    case Family::dnf: return "/etc/yum.repos.d/" + id + ".repo";
    case Family::zypper: return "/etc/zypp/repos.d/" + id + ".repo";
  }
  return {};
}

bool is_armoured_key(const std::string& key) {
  return key.find(k_armour_header) != std::string::npos;
}

std::string keyring_path(const std::string& id, bool armoured) {
  return "/usr/share/keyrings/" + id + "-keyring" + (armoured ? ".asc" : ".gpg");
}

bool is_local_key(const std::string& key_url) {
  return key_url.starts_with("file://") || key_url.starts_with('/');
}

std::string read_local_key(const host::HostRoot& root, const std::string& key_url) {
  const std::string path = key_url.starts_with("file://") ? key_url.substr(std::string_view("file://").size()) : key_url;
  if (path.empty() || path.front() != '/')
    throw ConfigError(key_url, 0, 0, "a file: key URL must name an absolute path: file:///PATH");
  const std::string key = root.read(path);
  if (!is_armoured_key(key) && !is_binary_key(key))
    throw Error("the repository key " + key_url + " is not an OpenPGP public key (it starts "
                "with \"" + preview(key) + "\"); nothing was changed");
  return key;
}

std::string downloaded_keyring_path(const std::string& id, const std::string& key_url) {
  return keyring_path(id, !key_url.ends_with(".gpg"));
}

std::optional<host::Command> key_download_command(const host::HostRoot& root, const std::string& key_url,
                                                  const std::string& keyring,
                                                  const std::optional<std::string>& proxy) {
  constexpr std::string_view helper = "/usr/lib/apt/apt-helper";
  if (!root.is_executable(helper)) return std::nullopt;
  host::Command command{std::string(helper), {"download-file", key_url, keyring}, std::chrono::minutes(2)};
  if (proxy) command.env = {{"http_proxy", *proxy}, {"https_proxy", *proxy}};
  return command;
}

std::string render_repository_file(Family family, const Repository& repository,
                                   const std::string& keyring,
                                   const std::filesystem::path& templates_dir) {
  const auto tpl = config::read_template(templates_dir,
                                         family == Family::apt ? "repos/apt.list" : "repos/rpm.repo");
  std::map<std::string, std::string> values = {
      {"id", repository.id}, {"name", repository.name}, {"url", repository.url}};
  if (family == Family::apt)
    values["keyring"] = keyring;
  else {  // dnf and zypper read gpgkey as a URL
    values["key_url"] = repository.key_url.starts_with('/') ? "file://" + repository.key_url : repository.key_url;
    values["repo_gpgcheck"] = repository.metadata_signed ? "1" : "0";
    values["gpgcheck"] = repository.packages_signed ? "1" : "0";
  }
  auto text = config::render_placeholders(tpl, values);
  // How a later run tells our file from one someone wrote at the same path.
  if (!text.starts_with(k_repository_marker))
    throw ConfigError(tpl.path, 1, 1, "a repository template must start with \"" +
                                          std::string(k_repository_marker) + "\"");
  return text;
}

}  // namespace gns::packages
