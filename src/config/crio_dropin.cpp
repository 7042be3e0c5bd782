#include "crio_dropin.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <vector>

#include "../error.hpp"
#include "../util/strings.hpp"
#include "toml_document.hpp"

namespace gns::config {
namespace {

constexpr std::string_view k_block_open = "{{#set_as_default}}";
constexpr std::string_view k_block_close = "{{/set_as_default}}";
constexpr std::string_view k_options = "{{inherited_options}}";

// Keys of a runtime table that say which binary runs: ours to set, or ones that would have
// CRI-O run another binary than ours (per platform, or the default runtime's own).
constexpr std::array<std::string_view, 4> k_binary_keys = {
    "runtime_path", "runtime_type", "platform_runtime_paths", "inherit_default_runtime"};

// The rendered text, and for each of its lines the template line it came from, so that an
// error in the rendered TOML is reported where the template's author can fix it.
struct Rendered {
  std::string text;
  std::vector<unsigned> origin;  // 1-based template line of each rendered line
  std::vector<bool> verbatim;    // copied without substitution: columns match too

  void add(std::string_view line, unsigned from, bool same) {
    text.append(line).push_back('\n');
    origin.push_back(from);
    verbatim.push_back(same);
  }
};

bool is_bare_key(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

// `text` as the inside of a TOML basic string ("...").
std::string escape_basic(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\', out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", byte);
      out += code;
    } else {
      out += c;
    }
  }
  return out;
}

using util::trim;

// `line` (template line `number`) with its placeholders replaced. Throws ConfigError for one
// that is unknown or not closed.
std::string substitute(std::string_view line, unsigned number, const std::string& template_name,
                       const CrioDropin& dropin) {
  std::string out;
  size_t at = 0;
  for (size_t open; (open = line.find("{{", at)) != std::string_view::npos;) {
    auto column = static_cast<unsigned>(open + 1);
    size_t close = line.find("}}", open);
    if (close == std::string_view::npos)
      throw ConfigError(template_name, number, column, "\"{{\" is not closed by \"}}\"");
    std::string_view name = line.substr(open + 2, close - open - 2);
    out.append(line.substr(at, open - at));
    if (name == "runtime_name")
      out += dropin.runtime_name;
    else if (name == "runtime_path")
      out += escape_basic(dropin.runtime_path);
    else
      throw ConfigError(template_name, number, column,
                        "unknown placeholder {{" + std::string(name) +
                            "}} (blocks and {{inherited_options}} stand alone on their line)");
    at = close + 2;
  }
  out.append(line.substr(at));
  return out;
}

void make_inline(toml::node& node) {
  if (auto* table = node.as_table()) {
    table->is_inline(true);
    for (auto&& [key, value] : *table) make_inline(value);
  } else if (auto* array = node.as_array()) {
    for (auto& value : *array) make_inline(value);
  }
}

// `options` as `key = value` lines; nested tables are written inline so that they stay
// inside the runtime's table rather than opening tables of their own.
std::vector<std::string> option_lines(const toml::table& options) {
  toml::table copy = options;
  for (auto&& [key, value] : copy) make_inline(value);
  std::ostringstream out;
  out << toml::toml_formatter{copy, toml::format_flags::none};
  std::istringstream formatted(out.str());
  std::vector<std::string> lines;
  for (std::string line; std::getline(formatted, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

Rendered render_lines(std::string_view template_text, const std::string& template_name,
                      const CrioDropin& dropin) {
  Rendered out;
  std::optional<unsigned> block_at;  // where the open {{#set_as_default}} is
  unsigned number = 0;
  for (size_t start = 0; start < template_text.size();) {
    size_t end = std::min(template_text.find('\n', start), template_text.size());
    std::string_view line = template_text.substr(start, end - start), bare = trim(line);
    start = end + 1, ++number;
    if (bare == k_block_open || bare == k_block_close) {
      if ((bare == k_block_open) == block_at.has_value())
        throw ConfigError(template_name, number, 0, std::string(bare) + " here is unbalanced");
      block_at = bare == k_block_open ? std::optional(number) : std::nullopt;
      continue;
    }
    bool keep = !block_at || dropin.set_as_default;
    if (bare == k_options) {
      if (keep)
        for (const auto& option : option_lines(dropin.inherited_options))
          out.add(option, number, false);
      continue;
    }
    std::string text = substitute(line, number, template_name, dropin);  // checked, kept or not
    if (keep) out.add(text, number, text == line);
  }
  if (block_at)
    throw ConfigError(template_name, *block_at, 0, "{{#set_as_default}} is never closed");
  return out;
}

// Throws ConfigError, at the template's line, when `rendered` is not TOML or does not say
// what `dropin` asks for.
void check_rendered(const Rendered& rendered, const std::string& template_name,
                    const CrioDropin& dropin) {
  toml::table table;
  try {
    table = parse_toml(rendered.text, template_name);
  } catch (const ConfigError& e) {
    size_t index = e.line() > 0 ? std::min<size_t>(e.line(), rendered.origin.size()) - 1 : 0;
    bool known = !rendered.origin.empty() && e.line() > 0;
    throw ConfigError(template_name, known ? rendered.origin[index] : 0,
                      known && rendered.verbatim[index] ? e.column() : 0,
                      "renders to invalid TOML: " + e.message());
  }
  auto runtime = table["crio"]["runtime"];
  if (runtime["runtimes"][dropin.runtime_name]["runtime_path"].value<std::string>() !=
      dropin.runtime_path)
    throw ConfigError(
        template_name, 0, 0,
        "does not set crio.runtime.runtimes.{{runtime_name}}.runtime_path to {{runtime_path}}");
  auto default_runtime = runtime["default_runtime"].value<std::string>();
  if (dropin.set_as_default && default_runtime != dropin.runtime_name)
    throw ConfigError(template_name, 0, 0,
                      "does not set crio.runtime.default_runtime to {{runtime_name}}");
  if (!dropin.set_as_default && default_runtime)
    throw ConfigError(template_name, 0, 0,
                      "sets crio.runtime.default_runtime outside {{#set_as_default}}");
}

}  // namespace

std::string render_crio_dropin(std::string_view template_text, const std::string& template_name,
                               const CrioDropin& dropin) {
  if (!is_bare_key(dropin.runtime_name))
    throw Error("runtime name '" + dropin.runtime_name +
                "' cannot name a CRI-O runtime: use letters, digits, '_' and '-'");
  Rendered rendered = render_lines(template_text, template_name, dropin);
  check_rendered(rendered, template_name, dropin);
  // Without the marker the stage would take our own drop-in for the user's and refuse it.
  if (!is_our_crio_dropin(rendered.text))
    return std::string(k_crio_dropin_marker) + ".\n" + rendered.text;
  return rendered.text;
}

bool is_our_crio_dropin(std::string_view text) { return text.starts_with(k_crio_dropin_marker); }

void merge_crio_config(toml::table& into, const toml::table& from) {
  for (auto&& [key, value] : from) {
    auto* mine = into.get_as<toml::table>(key);
    if (mine && value.is_table())
      merge_crio_config(*mine, *value.as_table());
    else
      value.visit([&, &name = key](const auto& v) { into.insert_or_assign(name, v); });
  }
}

std::optional<std::string> crio_default_runtime(const toml::table& config) {
  return config["crio"]["runtime"]["default_runtime"].value<std::string>();
}

std::optional<CrioBaseRuntime> crio_base_runtime(const toml::table& config,
                                                 std::string_view runtime_name) {
  std::vector<std::string> candidates;
  // nvidia-ctk never copies from an NVIDIA runtime (a default left by an earlier run), nor we
  // from the runtime we are about to define.
  if (auto name = crio_default_runtime(config);
      name && !name->empty() && name->rfind("nvidia", 0) != 0 && *name != runtime_name)
    candidates.push_back(*name);
  candidates.insert(candidates.end(), {"runc", "crun"});
  const auto* runtimes = config["crio"]["runtime"]["runtimes"].as_table();
  for (const auto& name : candidates) {
    const auto* options = runtimes ? runtimes->get_as<toml::table>(name) : nullptr;
    if (!options) continue;
    CrioBaseRuntime base{name, *options};
    for (auto key : k_binary_keys) base.options.erase(key);
    return base;
  }
  return std::nullopt;
}

}  // namespace gns::config
