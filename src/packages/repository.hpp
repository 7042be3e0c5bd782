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

// The signing key at `key_url`: a file:// URL or path is read inside the root (where apt
// would read it); an http(s) URL is downloaded by apt's own downloader inside the root
// (/usr/lib/apt/apt-helper: the host's proxy and CA settings apply). `proxy` as for
// PackageSystem. Throws Error when it cannot be had or is not an OpenPGP public key.
std::string fetch_key(const host::HostRoot& root, host::Runner& runner, const std::string& key_url,
                      const std::optional<std::string>& proxy);

// The repository file for `family`, from templates/repos/ (apt.list or rpm.repo) in
// `templates_dir` (config::read_template); `keyring` is the apt keyring's host path.
std::string render_repository_file(Family family, const Repository& repository,
                                   const std::string& keyring,
                                   const std::filesystem::path& templates_dir);

}  // namespace gns::packages
