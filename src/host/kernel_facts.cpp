#include "kernel_facts.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

namespace gns::host {
namespace {

// The EFI global variable that says whether Secure Boot is enforced: 4 attribute bytes,
// then one data byte (1 = enabled).
constexpr std::string_view k_secure_boot_var =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e098032b8c4c";

// Every directory modprobe reads configuration from (modprobe.d(5)).
constexpr const char* k_modprobe_dirs[] = {"/etc/modprobe.d", "/run/modprobe.d",
                                           "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d",
                                           "/lib/modprobe.d"};

std::string trim(std::string text) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
  text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
  return text;
}

SecureBoot read_secure_boot(const HostRoot& root) {
  if (!root.is_directory("/sys/firmware/efi")) return SecureBoot::not_efi;
  auto bytes = root.read_if_exists(k_secure_boot_var);
  if (!bytes || bytes->size() < 5) return SecureBoot::unknown;
  return (*bytes)[4] == 1 ? SecureBoot::enabled : SecureBoot::disabled;
}

bool cmdline_blacklists(std::string_view cmdline, std::string_view module) {
  std::istringstream words{std::string(cmdline)};
  std::string word;
  const std::string key = "modprobe.blacklist=";
  while (words >> word) {
    if (word.rfind(key, 0) != 0) continue;
    std::istringstream modules(word.substr(key.size()));
    std::string name;
    while (std::getline(modules, name, ','))
      if (name == module) return true;
  }
  return false;
}

std::vector<std::string> find_blacklists(const HostRoot& root, std::string_view module) {
  std::vector<std::string> places;
  std::set<std::string> seen_real_paths;  // /lib is often a link to /usr/lib
  for (const char* dir : k_modprobe_dirs) {
    for (const auto& name : root.list(dir)) {
      if (name.size() < 6 || name.compare(name.size() - 5, 5, ".conf") != 0) continue;
      std::string path = std::string(dir) + "/" + name;
      if (root.is_directory(path)) continue;  // modprobe skips directories too
      if (!seen_real_paths.insert(root.resolve(path).string()).second) continue;
      auto text = root.read_if_exists(path);
      if (text && blacklists_module(*text, module)) places.push_back(path);
    }
  }
  if (auto cmdline = root.read_if_exists("/proc/cmdline"); cmdline && cmdline_blacklists(*cmdline, module))
    places.emplace_back("kernel command line");
  return places;
}

}  // namespace

std::string_view to_string(SecureBoot state) {
  switch (state) {
    case SecureBoot::enabled: return "enabled";
    case SecureBoot::disabled: return "disabled";
    case SecureBoot::not_efi: return "not_efi";
    case SecureBoot::unknown: break;
  }
  return "unknown";
}

bool blacklists_module(std::string_view conf_text, std::string_view module) {
  std::istringstream lines{std::string(conf_text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string command, name;
    if (words >> command >> name && command == "blacklist" && name == module) return true;
  }
  return false;
}

KernelFacts read_kernel_facts(const HostRoot& root) {
  KernelFacts facts;
  facts.release = root.kernel_release();
  facts.headers_installed = root.exists("/lib/modules/" + facts.release + "/build/Makefile");
  facts.secure_boot = read_secure_boot(root);
  facts.nouveau_loaded = root.is_directory("/sys/module/nouveau");
  facts.nvidia_loaded = root.is_directory("/sys/module/nvidia");
  if (auto version = root.read_if_exists("/sys/module/nvidia/version"))
    facts.nvidia_version = trim(*version);
  facts.nouveau_blacklisted_in = find_blacklists(root, "nouveau");
  return facts;
}

}  // namespace gns::host
