#include "toml_document.hpp"

#include "../error.hpp"

namespace gns::config {

toml::table parse_toml(std::string_view text, const std::string& path) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigError(path, where.line, where.column, std::string(e.description()));
  }
}

}  // namespace gns::config
