#include "repository.hpp"

#include <unistd.h>

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

std::string download(const host::HostRoot& root, host::Runner& runner, const std::string& url,
                     const std::optional<std::string>& proxy) {
  constexpr std::string_view helper = "/usr/lib/apt/apt-helper";
  if (!root.is_executable(helper))
    throw Error("cannot download the repository key " + url + ": " + std::string(helper) +
                " is not installed. Put the key in a file and set `key = \"/PATH\"` in "
                "/etc/gpu-node-setup/config.toml [toolkit]");
  // Downloaded into a directory of ours that only root can write (never the world-writable
  // /tmp, where another user could plant a link under the name), read, and removed: the plan
  // shows its bytes, apply writes them where they belong.
  constexpr std::string_view downloads = "/var/lib/gpu-node-setup/downloads";
  root.make_private_directory(downloads);
  const std::string temp = std::string(downloads) + "/key." + std::to_string(::getpid());
  root.remove(temp);
  host::Command command{std::string(helper), {"download-file", url, temp}, std::chrono::minutes(2)};
  if (proxy) command.env = {{"http_proxy", *proxy}, {"https_proxy", *proxy}};
  auto result = runner.run(command);
  auto bytes = root.read_if_exists(temp);
  root.remove(temp);
  if (!result.succeeded() || !bytes)
    throw Error("cannot download the repository key " + url + " (" + result.describe_end(command) +
                "): " + result.err + result.out);
  return *bytes;
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

std::string fetch_key(const host::HostRoot& root, host::Runner& runner, const std::string& key_url,
                      const std::optional<std::string>& proxy) {
  std::string key;
  if (key_url.starts_with("file://"))
    key = root.read(key_url.substr(std::string_view("file://").size()));
  else if (key_url.starts_with("/"))
    key = root.read(key_url);
  else
    key = download(root, runner, key_url, proxy);
  if (!is_armoured_key(key) && !is_binary_key(key))
    throw Error("the repository key from " + key_url + " is not an OpenPGP public key (it starts "
                "with \"" + preview(key) + "\"); a proxy or a wrong URL? Nothing was changed");
  return key;
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
  else  // dnf and zypper read gpgkey as a URL
    values["key_url"] = repository.key_url.starts_with('/') ? "file://" + repository.key_url : repository.key_url;
  auto text = config::render_placeholders(tpl, values);
  // How a later run tells our file from one someone wrote at the same path.
  if (!text.starts_with(k_repository_marker))
    throw ConfigError(tpl.path, 1, 1, "a repository template must start with \"" +
                                          std::string(k_repository_marker) + "\"");
  return text;
}

}  // namespace gns::packages
