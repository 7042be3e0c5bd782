#pragma once
// A package repository that a stage adds under its own name: its file (an apt source list
// naming its keyring with signed-by, or a dnf/zypper .repo file naming its key), rendered from
// templates/repos/, and its signing key, fetched the way the host's own tools would fetch it.

#include <filesystem>
#include <string>

#include "../host/host_root.hpp"
#include "../host/runner.hpp"
#include "package_system.hpp"

namespace gns::packages {

struct Repository {
  std::string id;       // names its files and its .repo section: "nvidia-container-toolkit"
  std::string name;     // for people: "NVIDIA Container Toolkit"
  std::string url;      // apt: a flat repository ("deb [...] URL /"); dnf/zypper: baseurl
  std::string key_url;  // its signing key: https://, http://, file:///PATH or /PATH
  // What the key signs, for dnf and zypper (apt checks the index, always): the repository's
  // metadata (repo_gpgcheck, NVIDIA's container toolkit) or each package (gpgcheck, CUDA).
  bool metadata_signed = true;
  bool packages_signed = false;
};

// The first line of every repository file we write; a file without it is someone else's.
inline constexpr std::string_view k_repository_marker = "# Written by gpu-node-setup";

// Host path of the repository's file: /etc/apt/sources.list.d/ID.list,
// /etc/yum.repos.d/ID.repo or /etc/zypp/repos.d/ID.repo.
std::string repository_file_path(Family family, const std::string& id);

// apt: host path of the keyring signed-by names: ID-keyring.asc for an ASCII-armoured key
// (apt reads those by their extension), ID-keyring.gpg for a binary one.
std::string keyring_path(const std::string& id, bool armoured);

// True when `key` is an ASCII-armoured OpenPGP key rather than a binary one.
bool is_armoured_key(const std::string& key);

// True when `key_url` names a file inside the root (file:///PATH or /PATH), which the plan
// reads; an http(s) key is downloaded by apply (key_download_command), so that plan needs no
// network and writes nothing.
bool is_local_key(const std::string& key_url);

// The key file `key_url` names inside the root. Throws Error when it is missing or is not an
// OpenPGP public key, ConfigError for a file: URL without an absolute path.
std::string read_local_key(const host::HostRoot& root, const std::string& key_url);

// apt: where a downloaded key goes: ID-keyring.gpg when the URL ends in .gpg, else .asc
// (NVIDIA publishes its keys ASCII-armoured).
std::string downloaded_keyring_path(const std::string& id, const std::string& key_url);

// `apt-helper download-file URL KEYRING`, run inside the root by apply: apt's own downloader,
// so the host's proxy and CA settings apply (and `proxy`, as for PackageSystem); nullopt when
// /usr/lib/apt/apt-helper is not installed there. A key that is not one fails apt's index
// refresh right after it ("unsupported filetype", or the signature check), before any install.
std::optional<host::Command> key_download_command(const host::HostRoot& root, const std::string& key_url,
                                                  const std::string& keyring,
                                                  const std::optional<std::string>& proxy);

// The repository file for `family`, from templates/repos/ (apt.list or rpm.repo) in
// `templates_dir` (config::read_template); `keyring` is the apt keyring's host path.
std::string render_repository_file(Family family, const Repository& repository,
                                   const std::string& keyring,
                                   const std::filesystem::path& templates_dir);

}  // namespace gns::packages
