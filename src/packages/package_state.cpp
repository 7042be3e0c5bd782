#include "package_state.hpp"

#include <regex>

#include "../config/toml_document.hpp"
#include "../util/strings.hpp"

namespace gns::packages {
namespace {

using util::trim;

// One stanza of dpkg's status file, as far as we read it.
struct DpkgStanza {
  std::string package;
  std::string version;
  std::string status;  // "install ok installed", "hold ok installed", "deinstall ok config-files"
};

void add_if_installed(const DpkgStanza& stanza, InstalledSet& installed) {
  if (stanza.package.empty()) return;
  const std::string_view status = stanza.status;
  // Status is "want flag state"; only the state "installed" means the files are there.
  if (!status.ends_with(" installed")) return;
  installed[stanza.package] = {stanza.version, status.starts_with("hold ")};
}

}  // namespace

InstalledSet parse_dpkg_status(std::string_view text) {
  InstalledSet installed;
  DpkgStanza stanza;
  for (std::string_view line : util::lines_of(text)) {
    if (trim(line).empty()) {
      add_if_installed(stanza, installed);
      stanza = {};
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') continue;  // a continuation line
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto field = line.substr(0, colon);
    const std::string value(trim(line.substr(colon + 1)));
    if (field == "Package") stanza.package = value;
    else if (field == "Version") stanza.version = value;
    else if (field == "Status") stanza.status = value;
  }
  add_if_installed(stanza, installed);
  return installed;
}

InstalledSet parse_rpm_query(std::string_view text) {
  InstalledSet installed;
  for (std::string_view line : util::lines_of(text)) {
    const auto tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    std::string name(trim(line.substr(0, tab)));
    const std::string version(trim(line.substr(tab + 1)));
    if (name.empty()) continue;
    // Every key rpm imported is a "gpg-pubkey" of its own version: named by it, so that each
    // is told apart, and `rpm -e NAME` removes exactly that one.
    if (name == "gpg-pubkey") name += "-" + version;
    installed[name] = {version, false};
  }
  return installed;
}

std::set<std::string> parse_versionlock_list(std::string_view text) {
  // "name-epoch:version-release.arch", the form `dnf versionlock add` writes; yum's older
  // files leave the epoch out: "name-version-release.arch".
  static const std::regex with_epoch(R"(^(.+)-[0-9]+:[^-]+-[^-]+$)");
  static const std::regex without_epoch(R"(^(.+)-[^-]+-[^-]+$)");
  std::set<std::string> names;
  for (std::string_view raw : util::lines_of(text)) {
    const std::string line(trim(raw));
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    std::smatch match;
    if (std::regex_match(line, match, with_epoch) || std::regex_match(line, match, without_epoch))
      names.insert(match[1].str());
  }
  return names;
}

std::set<std::string> parse_dnf5_versionlock(std::string_view text, const std::string& path) {
  std::set<std::string> names;
  const auto document = config::parse_toml(text, path);
  if (const auto* entries = document["packages"].as_array())
    for (const auto& entry : *entries)
      if (const auto* table = entry.as_table())
        if (auto name = (*table)["name"].value<std::string>()) names.insert(*name);
  return names;
}

std::set<std::string> parse_zypp_locks(std::string_view text) {
  std::set<std::string> names;
  constexpr std::string_view key = "solvable_name:";
  for (std::string_view raw : util::lines_of(text)) {
    const auto line = trim(raw);
    if (line.starts_with(key)) names.insert(std::string(trim(line.substr(key.size()))));
  }
  return names;
}

}  // namespace gns::packages
