#include "containerd_template.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "../error.hpp"
#include "toml_document.hpp"

namespace gns::config {
namespace {

// The shims that run a runc-compatible binary named by BinaryName: a runtime_type a template
// sets must be one of them (it may set none, and keep the copied runtime's).
constexpr std::array<std::string_view, 3> k_runc_shims = {
    "io.containerd.runc.v2", "io.containerd.runc.v1", "io.containerd.runtime.v1.linux"};

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// `value` as the inside of a TOML "basic string".
std::string escape_basic(std::string_view value) {
  const std::string quoted = render_string(value, '"');
  return quoted.substr(1, quoted.size() - 2);
}

// The rendered text, line for line the template's: a TOML error's line is the template's.
struct Rendered {
  std::string text;
  std::vector<bool> substituted;  // per line: a placeholder moved its columns
};

// `line` (template line `number`) with its placeholders replaced.
std::string substitute(std::string_view line, unsigned number, const Template& tpl,
                       const std::string& runtime_name, const std::string& runtime_path) {
  std::string out;
  size_t at = 0;
  for (size_t open; (open = line.find("{{", at)) != std::string_view::npos;) {
    const auto column = static_cast<unsigned>(open + 1);
    const size_t close = line.find("}}", open);
    if (close == std::string_view::npos)
      throw ConfigError(tpl.path, number, column, "\"{{\" is not closed by \"}}\"");
    const std::string_view name = line.substr(open + 2, close - open - 2);
    out.append(line.substr(at, open - at));
    if (name == "runtime_name") {
      out += escape_basic(runtime_name);
    } else if (name == "runtime_path") {
      out += escape_basic(runtime_path);
    } else {
      throw ConfigError(tpl.path, number, column,
                        "unknown placeholder {{" + std::string(name) +
                            "}}; the runtime template knows {{runtime_name}} and {{runtime_path}}");
    }
    at = close + 2;
  }
  out.append(line.substr(at));
  return out;
}

Rendered render_text(const Template& tpl, const std::string& runtime_name,
                     const std::string& runtime_path) {
  Rendered out;
  unsigned number = 0;
  for (size_t start = 0; start < tpl.text.size();) {
    const size_t newline = tpl.text.find('\n', start);
    const size_t end = newline == std::string::npos ? tpl.text.size() : newline + 1;
    const std::string_view line = std::string_view(tpl.text).substr(start, end - start);
    start = end;
    const std::string text = substitute(line, ++number, tpl, runtime_name, runtime_path);
    out.substituted.push_back(text != line);
    out.text += text;
  }
  return out;
}

toml::table parse_rendered(const Rendered& rendered, const std::string& path) {
  try {
    return parse_toml(rendered.text, path);
  } catch (const ConfigError& e) {
    // A placeholder on the line moved its columns: the template's column is unknown.
    const bool moved = e.line() > 0 && e.line() <= rendered.substituted.size() &&
                       rendered.substituted[e.line() - 1];
    throw ConfigError(path, e.line(), moved ? 0 : e.column(),
                      "renders to invalid TOML: " + e.message());
  }
}

const toml::node* find(const toml::table& table, const KeyPath& path) {
  const toml::node* node = &table;
  for (const auto& part : path) {
    const toml::table* inner = node->as_table();
    node = inner ? inner->get(part) : nullptr;
    if (!node) return nullptr;
  }
  return node;
}

unsigned line_of(const toml::node& node) { return node.source().begin.line; }

// The keys of `table` as written in `text`: every value, and `{}` for an empty table other than
// `options` (whose table the runtime always has), in file order.
std::vector<RuntimeTemplateKey> template_keys(const std::string& text, const toml::table& table,
                                              const std::string& path) {
  const TomlLayout layout = scan_toml_layout(text);
  std::vector<RuntimeTemplateKey> keys;
  for (const auto& header : layout.headers) {
    if (header.array)
      throw ConfigError(path, header.line, 0,
                        "an array of tables ([[...]]) has no place in a runtime's table");
    const toml::node* node = find(table, header.path);
    if (header.path != KeyPath{"options"} && node && node->as_table()->empty())
      keys.push_back({header.path, "{}", std::nullopt, header.line});
  }
  for (size_t i = 0; i < layout.keys.size(); ++i) {
    const TomlKeyValue& pair = layout.keys[i];
    const bool has_inner =
        i + 1 < layout.keys.size() && layout.keys[i + 1].path.size() > pair.path.size() &&
        std::equal(pair.path.begin(), pair.path.end(), layout.keys[i + 1].path.begin());
    if (pair.value_is_inline_table && (has_inner || pair.path == KeyPath{"options"})) continue;
    const toml::node* node = find(table, pair.path);
    keys.push_back({pair.path, text.substr(pair.value_begin, pair.value_end - pair.value_begin),
                    node && node->is_string() ? node->value<std::string>() : std::nullopt,
                    pair.line});
  }
  return keys;
}

void check_options(const RuntimeFragment& fragment, const std::string& runtime_path) {
  const toml::node* options = fragment.table.get("options");
  if (options && !options->is_table())
    throw ConfigError(fragment.path, line_of(*options), 0, "`options` must be a table");
  bool binary_set = false;
  if (options)
    for (auto&& [key, value] : *options->as_table()) {
      if (!iequals(key.str(), "BinaryName")) continue;
      if (value.value<std::string>() != runtime_path)
        throw ConfigError(fragment.path, line_of(value), 0,
                          "options." + std::string(key.str()) +
                              " must be \"{{runtime_path}}\": it is the NVIDIA runtime that "
                              "containerd's runc shim runs");
      binary_set = true;
    }
  if (!binary_set)
    throw ConfigError(fragment.path, 0, 0,
                      "does not set options.BinaryName = \"{{runtime_path}}\": without it "
                      "containerd would run plain runc, not the NVIDIA runtime");
}

void check_runtime_type(const RuntimeFragment& fragment) {
  const toml::node* type = fragment.table.get("runtime_type");
  if (!type) return;
  const auto value = type->value<std::string>();
  if (!value || std::find(k_runc_shims.begin(), k_runc_shims.end(), *value) == k_runc_shims.end())
    throw ConfigError(fragment.path, line_of(*type), 0,
                      "runtime_type must be a runc shim (io.containerd.runc.v2): the NVIDIA "
                      "runtime wraps runc, and another shim would not run it");
}

}  // namespace

const Template& builtin_runtime_template() {
  static const Template k_builtin{"(built-in runtime template)",
                                  "options.BinaryName = \"{{runtime_path}}\"\n"};
  return k_builtin;
}

std::optional<std::string> RuntimeFragment::runtime_type() const {
  return table["runtime_type"].value<std::string>();
}

RuntimeFragment render_runtime_template(const Template& runtime_template,
                                        const std::string& runtime_name,
                                        const std::string& runtime_path) {
  const Rendered rendered = render_text(runtime_template, runtime_name, runtime_path);
  RuntimeFragment fragment;
  fragment.path = runtime_template.path;
  fragment.table = parse_rendered(rendered, fragment.path);
  fragment.keys = template_keys(rendered.text, fragment.table, fragment.path);
  check_options(fragment, runtime_path);
  check_runtime_type(fragment);
  return fragment;
}

}  // namespace gns::config
