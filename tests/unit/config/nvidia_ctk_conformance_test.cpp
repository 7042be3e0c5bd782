// Conformance with NVIDIA's own `nvidia-ctk runtime configure`: every docker and containerd case
// in ../shared/fixtures/nvidia-ctk-cases (README.md there says where each came from) is run
// through our editors with the case's own settings, and the configuration dockerd or containerd
// would end up with is compared with nvidia-ctk's, by meaning, not by bytes (we keep the user's
// formatting, nvidia-ctk re-serialises). The cases are read from the shared directory at run time
// and never copied here.
//
// Each compared case must differ from nvidia-ctk in exactly the keys its row in
// k_expected_differences names, no more and no fewer, so that a change of behaviour in either
// direction fails here and has to be decided again. Independently of nvidia-ctk, every key of the
// case's input must still be there, with its value, in ours (we never drop what the user wrote).
// The cases we do not compare are listed in k_skipped with the reason.
//
// A containerd `configure --drop-in-config=PATH` case on a version 2+ or blank config is run
// through our drop-in mode and compared as containerd 2.1 reads config.toml and our drop-in
// (key by key); the installer's three-runtime setups and version 1 configs through the in-place
// edit. An `ensure-imports` case compares only the `imports` our drop-in mode leaves.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/containerd_config.hpp"
#include "config/containerd_dropin.hpp"
#include "config/containerd_imports.hpp"
#include "config/containerd_toml.hpp"
#include "config/daemon_json.hpp"
#include "config/toml_document.hpp"
#include "error.hpp"
#include "support/temp_root.hpp"

using namespace gns::config;
namespace fs = std::filesystem;

namespace {

// ---- the decisions -----------------------------------------------------------------------------

// CRI-O is not configured by editing a top-level config: gpu-node-setup writes a drop-in of its
// own, which crio_dropin_test.cpp compares with the engine and CLI cases.
const std::string k_crio_dropin = "CRI-O: our own drop-in, compared in crio_dropin_test.cpp";
const std::string k_crio_installer =
    "CRI-O installer lifecycle (three runtimes, then cleanup); we write our own drop-in";
const std::string k_oci_hook = "the deprecated oci-hook config mode";

// Cases not compared, by "engine/case": each is about something other than the configuration a
// plain configure of the top-level file leaves behind.
const std::map<std::string, std::string> k_skipped = {
    {"containerd/cli-config-from-command",
     "the source config comes from `containerd config dump`, which we never read"},
    {"containerd/cli-dry-run-no-files-written", "dry-run stdout of the CLI; no file is written"},
    {"docker/cli-invalid-runtime", "CLI argument validation (`--runtime invalid`); no file"},
    {"docker/engine-runtimes-case-4", "no configure step at all: a round trip of the input"},
    {"docker/installer-revert-case-0", "installer revert; ours restores the recorded default"},
    {"docker/installer-revert-case-1", "installer revert; ours restores the recorded default"},
    {"docker/installer-revert-case-2", "installer revert; ours restores the recorded default"},
    {"docker/installer-revert-case-3", "installer revert; ours restores the recorded default"},
    {"docker/installer-revert-case-4", "installer revert; ours restores the recorded default"},
    {"docker/installer-revert-case-5", "installer revert; ours restores the recorded default"},
    {"docker/installer-revert-case-6", "installer revert; ours restores the recorded default"},
    {"hook/cli-oci-hook-create-hook-file", k_oci_hook},
    {"crio/cli-config-does-not-exist-with-drop-in", k_crio_dropin},
    {"crio/cli-existing-config-with-nvidia-runtime-set-as-default", k_crio_dropin},
    {"crio/engine-empty-config-not-default-runtime", k_crio_dropin},
    {"crio/engine-empty-config-set-as-default-runtime", k_crio_dropin},
    {"crio/engine-options-from-default-runtime-are-imported", k_crio_dropin},
    {"crio/engine-options-from-runc-are-imported", k_crio_dropin},
    {"crio/engine-options-from-the-default-runtime-take-precedence-over-runc", k_crio_dropin},
    {"crio/engine-runtime-already-exists-in-config-default-runtime", k_crio_dropin},
    {"crio/engine-runtime-already-exists-in-config-not-default-runtime", k_crio_dropin},
    {"crio/installer-config-mode-complex-config-with-multiple-settings", k_crio_installer},
    {"crio/installer-config-mode-existing-config-with-nvidia-runtime-already-present",
     k_crio_installer},
    {"crio/installer-config-mode-existing-config-without-nvidia-runtime", k_crio_installer},
    {"crio/installer-config-mode-top-level-config-does-not-exist", k_crio_installer},
    {"crio/installer-hook-mode-existing-hook-file", k_oci_hook},
    {"crio/installer-hook-mode-no-existing-hook", k_oci_hook},
};

enum class Why {
  deliberate,      // we chose to differ; the README's "Where we differ from nvidia-ctk" says why
  nvidia_ctk_bug,  // nvidia-ctk's result is wrong (the reason says how we know)
};

struct ExpectedDifference {
  std::string key;  // as difference_key() renders it
  Why why;
  std::string reason;
};

// Reasons shared by several rows.
const std::string k_runc_only =
    "we copy the default runtime only when it is a runc shim (the NVIDIA runtime wraps runc; a "
    "kata or gVisor shim would not run it); the test's \"type\" and \"defaulttype\" are not, so "
    "ours is a fresh io.containerd.runc.v2 runtime without the copied keys";
const std::string k_own_import =
    "config.toml imports our drop-in by its own path; nvidia-ctk imports every *.toml of the "
    "drop-in's directory, which would also start loading whatever else lies there";
const std::string k_explicit_runc =
    "the schema 1 or 2 config has no runtimes table, so containerd 1.x has runc only as a "
    "built-in default and drops it as soon as the file defines a runtime (its decoder replaces "
    "the runtimes map; containerd 1.6's `config dump` shows runc gone): we write runc out too, "
    "with runtime_type alone; nvidia-ctk does not, and a RuntimeClass with handler runc breaks";
const std::string k_no_containerd_cdi =
    "our --cdi is docker-only: we write no enable_cdi into containerd's CRI plugin (containerd "
    "2.x has CDI on by default)";

// The keys nvidia-ctk copies from a non-runc default runtime and we do not (see k_runc_only).
// `privileged` says whether the copied privileged_without_host_devices is true: false is
// containerd's default, so copying it changes nothing.
std::vector<ExpectedDifference> not_copied_from_non_runc(bool privileged) {
  std::vector<ExpectedDifference> keys;
  for (const std::string key : {"runtime_type", "runtime_engine", "runtime_root",
                                "options.systemdcgroup", "privileged_without_host_devices"})
    if (privileged || key != "privileged_without_host_devices")
      keys.push_back({"<cri>.containerd.runtimes.test." + key, Why::deliberate, k_runc_only});
  return keys;
}

// Each compared case that does not mean what nvidia-ctk's result means, with every key that
// differs. A case not listed must match exactly.
const std::map<std::string, std::vector<ExpectedDifference>> k_expected_differences = {
    {"containerd/cli-enable-cdi", {{"<cri>.enable_cdi", Why::deliberate, k_no_containerd_cdi}}},
    {"containerd/dropin-ensure-imports-empty", {{"imports", Why::deliberate, k_own_import}}},
    {"containerd/dropin-ensure-imports-existing-imports-as-any-slice",
     {{"imports", Why::deliberate, k_own_import}}},
    {"containerd/dropin-ensure-imports-existing-imports-as-string-slice",
     {{"imports", Why::deliberate, k_own_import}}},
    {"containerd/engine-options-from-default-runtime-are-imported", not_copied_from_non_runc(true)},
    {"containerd/engine-options-from-runc-are-imported", not_copied_from_non_runc(true)},
    {"containerd/engine-options-from-the-default-runtime-take-precedence-over-runc",
     not_copied_from_non_runc(false)},
    {"containerd/engine-runtime-already-exists-in-config-not-default-runtime",
     {{"<cri>.containerd.default_runtime_name", Why::deliberate,
       "without --set-as-default we leave default_runtime_name alone; nvidia-ctk deletes it "
       "when it names the runtime being added, taking the user's default away"}}},
    {"containerd/engine-v1-empty-config-not-default-runtime",
     {{"<cri>.containerd.runtimes.test.runtime_type", Why::deliberate,
       "the engine test asks for an empty runtime type (WithRuntimeType(\"\"), which the CLI "
       "cannot express; the CLI run of this case loses the runtime, README.md there); a runtime "
       "we write from nothing is always io.containerd.runc.v2"},
      {"<cri>.containerd.runtimes.runc.runtime_type", Why::deliberate, k_explicit_runc}}},
    {"containerd/engine-v1-options-from-default-runtime-are-imported",
     not_copied_from_non_runc(true)},
    {"containerd/engine-v1-options-from-runc-are-imported", not_copied_from_non_runc(true)},
    {"containerd/engine-v1-options-from-the-default-runtime-take-precedence-over-runc",
     not_copied_from_non_runc(false)},
    {"containerd/engine-v3-spec-is-supported", not_copied_from_non_runc(true)},
    {"containerd/installer-v1-existing-config-without-nvidia-runtime",
     {{"<cri>.containerd.enable_cdi", Why::nvidia_ctk_bug,
       "nvidia-ctk's v1 EnableCDI writes plugins.cri.containerd.enable_cdi, but containerd 1.x "
       "reads enable_cdi from plugins.cri itself, so the key does nothing (and we write none)"}}},
    {"containerd/installer-v2-complex-config-with-multiple-plugins-and-settings",
     {{"<cri>.enable_cdi", Why::deliberate, k_no_containerd_cdi},
      {"<cri>.containerd.runtimes.nvidia.container_annotations", Why::deliberate,
       "the installer's --nvidia-container-runtime-modes.cdi.annotation-prefixes; we have no "
       "such option"},
      {"<cri>.containerd.runtimes.nvidia-cdi.container_annotations", Why::deliberate,
       "as for nvidia"},
      {"<cri>.containerd.runtimes.nvidia-legacy.container_annotations", Why::deliberate,
       "as for nvidia"}}},
    {"containerd/installer-v2-existing-config-with-nvidia-runtime-using-old-path-already-present",
     {{"(refused)", Why::deliberate,
       "we never overwrite a containerd runtime of the same name that runs another binary "
       "(/old/path/...); nvidia-ctk replaces it. The error suggests --runtime-name"}}},
    {"containerd/installer-v2-existing-config-without-nvidia-runtime-and-cdi-enabled",
     {{"<cri>.enable_cdi", Why::deliberate, k_no_containerd_cdi}}},
    {"containerd/installer-v2-top-level-config-does-not-exist",
     {{"<cri>.containerd.runtimes.runc.runtime_type", Why::deliberate, k_explicit_runc}}},
    {"containerd/installer-v2-top-level-config-does-not-exist-with-drop-in-config-host-path",
     {{"<cri>.containerd.runtimes.runc.runtime_type", Why::deliberate, k_explicit_runc}}},
};

// ---- reading a case ----------------------------------------------------------------------------

fs::path cases_dir() { return fs::path(GNS_SHARED_FIXTURES_DIR) / "nvidia-ctk-cases"; }

// The runtime one configure call adds, as nvidia-ctk was asked to add it.
struct RuntimeStep {
  std::string name;
  std::string path;
  bool set_as_default = false;
  bool cdi = false;
  std::string drop_in;  // configure's --drop-in-config; empty: config.toml edited in place
};

struct Case {
  std::string id;  // "engine/case"
  std::string engine;
  fs::path dir;
  std::vector<std::string> metadata;  // the `#` lines of args.txt
  std::vector<RuntimeStep> steps;
  std::optional<std::string> ensure_import;  // the path of an `ensure-imports` step
};

// `line` split into words as a POSIX shell would, for the quoting args.txt uses.
std::vector<std::string> shell_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (const char c : line) {
    if (quote != 0 && c != quote) {
      word += c;
    } else if (quote != 0) {
      quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

// The `--flag[=value]` words after the verb. urfave/cli takes the next word as the value of a
// string flag, and nothing for a boolean one.
std::map<std::string, std::string> parse_flags(const std::vector<std::string>& words) {
  static const std::set<std::string> k_booleans = {"nvidia-set-as-default", "set-as-default",
                                                   "cdi.enabled", "dry-run"};
  std::map<std::string, std::string> flags;
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string flag = words[i].substr(2);
    if (const auto eq = flag.find('='); eq != std::string::npos) {
      flags[flag.substr(0, eq)] = flag.substr(eq + 1);
    } else if (k_booleans.count(flag) == 1) {
      flags[flag] = "true";
    } else if (i + 1 < words.size()) {
      flags[flag] = words[++i];
    }
  }
  return flags;
}

std::string flag_or(const std::map<std::string, std::string>& flags, const std::string& name,
                    const std::string& fallback) {
  const auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

// `nvidia-ctk runtime configure`, with its defaults (cmd/nvidia-ctk/runtime/configure): the
// runtime path is the bare executable name, made /usr/bin/... for containerd.
RuntimeStep configure_step(const std::string& engine, const std::map<std::string, std::string>& f) {
  RuntimeStep step{flag_or(f, "nvidia-runtime-name", "nvidia"),
                   flag_or(f, "nvidia-runtime-path", "nvidia-container-runtime"),
                   f.count("nvidia-set-as-default") == 1, f.count("cdi.enabled") == 1,
                   flag_or(f, "drop-in-config", "")};
  if (engine == "containerd" && step.path == "nvidia-container-runtime")
    step.path = "/usr/bin/nvidia-container-runtime";
  return step;
}

// The installer's Setup adds three runtimes; only the first can become the default. Compared
// in place: our drop-in holds one runtime, not the installer's three.
std::vector<RuntimeStep> setup_steps(const std::map<std::string, std::string>& f) {
  std::string name = flag_or(f, "runtime-name", "");
  if (name.empty()) name = "nvidia";
  const std::string binary = flag_or(f, "runtime-dir", "") + "/nvidia-container-runtime";
  const bool cdi = flag_or(f, "enable-cdi-in-runtime", "false") == "true";
  return {{name, binary, flag_or(f, "set-as-default", "false") == "true", cdi, ""},
          {"nvidia-cdi", binary + ".cdi", false, cdi, ""},
          {"nvidia-legacy", binary + ".legacy", false, cdi, ""}};
}

// The runtimes the case's steps add, in order. A `cleanup` step is not replayed: the expected
// file compared is the one after setup (revert semantics differ by design).
std::vector<RuntimeStep> parse_steps(const std::string& engine, const std::string& args) {
  std::vector<RuntimeStep> steps;
  std::istringstream lines(args);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() == '#') continue;
    const auto words = shell_words(line);
    if (words.empty()) continue;
    const auto flags = parse_flags(words);
    if (words.front() == "configure") steps.push_back(configure_step(engine, flags));
    if (words.front() == "setup")
      for (auto& step : setup_steps(flags)) steps.push_back(std::move(step));
  }
  return steps;
}

Case read_case(const fs::path& dir) {
  Case c;
  c.engine = dir.parent_path().filename().string();
  c.id = c.engine + "/" + dir.filename().string();
  c.dir = dir;
  const std::string args = gns::test::read_file(dir / "args.txt");
  std::istringstream lines(args);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with("#")) c.metadata.push_back(line);
  c.steps = parse_steps(c.engine, args);
  std::istringstream steps(args);
  for (std::string line; std::getline(steps, line);)
    if (line.starts_with("ensure-imports ")) c.ensure_import = shell_words(line).at(1);
  return c;
}

bool has_metadata(const Case& c, std::string_view text) {
  for (const auto& line : c.metadata)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

// The bytes of `name` in the case; an absent file reads as an empty one, as both tools take it.
std::string case_file(const Case& c, const std::string& name) {
  return fs::exists(c.dir / name) ? gns::test::read_file(c.dir / name) : std::string();
}

std::vector<Case> compared_cases(const std::string& engine) {
  std::vector<Case> cases;
  for (const auto& entry : fs::directory_iterator(cases_dir() / engine))
    if (k_skipped.count(engine + "/" + entry.path().filename().string()) == 0)
      cases.push_back(read_case(entry.path()));
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.id < b.id; });
  return cases;
}

// ---- what each tool leaves behind --------------------------------------------------------------

// containerd 2.1's merge of an imported file over what it has read: tables key by key, any
// other value replaced.
void merge_key_by_key(toml::table& into, const toml::table& from) {
  for (auto&& [key, node] : from) {
    toml::table* inner = into[key].as_table();
    if (inner && node.is_table()) {
      merge_key_by_key(*inner, *node.as_table());
    } else {
      into.insert_or_assign(key, node);
    }
  }
}

// True when the case's one step is `configure --drop-in-config=PATH` on a config we would give
// a drop-in (version 2 or later, or blank): ours is then our drop-in, as containerd 2.1 reads it
// with config.toml. The installer's three-runtime setups are compared in place.
bool writes_drop_in(const Case& c, const std::string& input) {
  if (c.engine != "containerd" || c.steps.size() != 1 || c.steps[0].drop_in.empty()) return false;
  return input.find_first_not_of(" \t\r\n") == std::string::npos ||
         parse_toml(input, "input.toml").contains("version");
}

// config.toml and our drop-in after the case's step, merged as containerd 2.1 merges them.
std::string run_ours_as_drop_in(const Case& c, const std::string& input) {
  const RuntimeStep& step = c.steps.front();
  const ContainerdRuntimeSettings s{step.name, step.path, step.set_as_default};
  const auto dropin = configure_containerd_dropin(input, "config.toml", step.drop_in, 2, s);
  toml::table merged = parse_toml(dropin.config.text, "config.toml");
  // config.toml loads the drop-in (through our import, or one of the user's that covers it)
  // and keeps the user's imports first; compared as the user wrote them.
  std::vector<std::string> imports = containerd_imports::entries(
      containerd_toml::read_document(dropin.config.text, "config.toml", 2));
  if (dropin.import != ContainerdImport::nothing) {
    CHECK(imports.back() == step.drop_in);
    imports.pop_back();
  }
  CHECK(imports == dropin.other_imports);
  merged.erase("imports");
  const toml::table original = parse_toml(input, "input.toml");
  if (const toml::node* theirs = original.get("imports")) merged.insert("imports", *theirs);
  merge_key_by_key(merged, parse_toml(dropin.text, step.drop_in));
  std::ostringstream out;
  out << merged;
  return out.str();
}

// Our file after the case's steps (for a drop-in, what containerd reads), or nothing when our
// editor refused (the message goes to `refusal`).
std::optional<std::string> run_ours(const Case& c, std::string text, std::string& refusal) {
  // nvidia-ctk writes version 2 for an empty or absent config, version 1 only when the engine
  // test asks for the legacy config.
  const int64_t version_if_empty = has_metadata(c, "WithUseLegacyConfig(true)") ? 1 : 2;
  try {
    if (writes_drop_in(c, text)) return run_ours_as_drop_in(c, text);
    for (const auto& step : c.steps) {
      if (c.engine == "docker") {
        DockerRuntimeSettings s;
        s.runtime_name = step.name;
        s.runtime_path = step.path;
        s.set_as_default = step.set_as_default;
        s.enable_cdi = step.cdi;
        text = configure_docker_runtime(text, "daemon.json", s).text;
      } else {
        const ContainerdRuntimeSettings s{step.name, step.path, step.set_as_default};
        text = configure_containerd_runtime(text, "config.toml", version_if_empty, s).text;
      }
    }
  } catch (const gns::Error& e) {
    refusal = e.what();
    return std::nullopt;
  }
  return text;
}

// containerd 1.x merges an imported file by replacing whole plugin tables, which is why
// nvidia-ctk's drop-in copies the entire CRI plugin table: the drop-in's plugin tables win.
toml::table overlay(toml::table base, const toml::table& drop_in) {
  for (auto&& [key, node] : drop_in) {
    if (key.str() != "plugins" || !node.is_table() || !base["plugins"].is_table()) {
      base.insert_or_assign(key, node);
      continue;
    }
    for (auto&& [plugin, table] : *node.as_table())
      base["plugins"].as_table()->insert_or_assign(plugin, table);
  }
  return base;
}

// The containerd configuration nvidia-ctk leaves: the top-level file, with the drop-in it
// imports where it wrote one. Engine cases hold only the drop-in: their top-level file is the
// input plus an imports line.
toml::table nvidia_ctk_containerd(const Case& c) {
  const auto parse = [&](const std::string& name) {
    return parse_toml(case_file(c, name), (c.dir / name).string());
  };
  if (fs::exists(c.dir / "expected-dropin.toml"))
    return overlay(parse("expected.toml"), parse("expected-dropin.toml"));
  if (has_metadata(c, "# expected: content of the drop-in file"))
    return overlay(parse("input.toml"), parse("expected.toml"));
  return parse("expected.toml");
}

// ---- comparing by meaning ----------------------------------------------------------------------

using KeyPath = std::vector<std::string>;
// Every scalar or array in a document, by its key path, written as TOML or JSON writes it.
using Leaves = std::map<KeyPath, std::string>;

std::string render_node(const toml::node& node) {
  std::ostringstream out;
  node.visit([&](const auto& value) { out << value; });
  return out.str();
}

void flatten(const toml::table& table, KeyPath& at, Leaves& out) {
  for (auto&& [key, node] : table) {
    at.emplace_back(key.str());
    if (const toml::table* child = node.as_table())
      flatten(*child, at, out);
    else
      out[at] = render_node(node);
    at.pop_back();
  }
}

void flatten(const nlohmann::json& object, KeyPath& at, Leaves& out) {
  for (const auto& [key, value] : object.items()) {
    at.push_back(key);
    if (value.is_object())
      flatten(value, at, out);
    else
      out[at] = value.dump();
    at.pop_back();
  }
}

template <typename Document>
Leaves leaves_of(const Document& document) {
  Leaves out;
  KeyPath at;
  flatten(document, at, out);
  return out;
}

bool is_cri_plugin(const std::string& id) {
  return id == "cri" || id == "io.containerd.grpc.v1.cri" || id == "io.containerd.cri.v1.runtime";
}

// True for `plugins.<cri>.containerd.runtimes.<name>.<key...>`.
bool is_runtime_key(const KeyPath& path) {
  return path.size() >= 6 && path[0] == "plugins" && is_cri_plugin(path[1]) &&
         path[2] == "containerd" && path[3] == "runtimes";
}

std::string lowercase(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The leaves as containerd reads them. It matches runc option keys in any case; it reads the
// deprecated runtime_engine and runtime_root, and privileged_without_host_devices, at their zero
// values as if absent; a file without `version` is version 1. `imports` is left out: it is how
// nvidia-ctk reaches its drop-in (whose content is already merged), and we keep the user's
// imports as they are (checked on its own).
Leaves containerd_meaning(const Leaves& leaves) {
  Leaves out;
  for (const auto& [written, value] : leaves) {
    KeyPath path = written;
    if (path == KeyPath{"imports"}) continue;
    if (is_runtime_key(path) && path.size() == 6) {
      const bool zero = value == render_node(toml::value<std::string>()) || value == "false";
      const std::string& key = path[5];
      if (zero && (key == "runtime_engine" || key == "runtime_root" ||
                   key == "privileged_without_host_devices"))
        continue;
    }
    if (is_runtime_key(path) && path.size() == 7 && path[5] == "options")
      path[6] = lowercase(path[6]);
    out[path] = value;
  }
  out.try_emplace({"version"}, "1");
  return out;
}

// `plugins.<the CRI plugin of schema version>`, which difference keys write as `<cri>`.
KeyPath cri_prefix(const Leaves& leaves) {
  const auto version = leaves.find({"version"});
  const std::string v = version == leaves.end() ? "1" : version->second;
  return {"plugins", v == "1"   ? "cri"
                     : v == "2" ? "io.containerd.grpc.v1.cri"
                                : "io.containerd.cri.v1.runtime"};
}

std::string render_key_part(const std::string& key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  return bare ? key : "\"" + key + "\"";
}

// `path` as the expected-difference table writes it: dotted, quoted where TOML would quote,
// with the case's own CRI plugin table shortened to `<cri>`.
std::string difference_key(const KeyPath& path, const std::optional<KeyPath>& cri) {
  size_t from = 0;
  std::string key;
  if (cri && path.size() > 2 && path[0] == (*cri)[0] && path[1] == (*cri)[1]) {
    key = "<cri>";
    from = 2;
  }
  for (size_t i = from; i < path.size(); ++i)
    key += (key.empty() ? "" : ".") + render_key_part(path[i]);
  return key;
}

// Difference key -> what each side has there.
using Differences = std::map<std::string, std::string>;

Differences differences(const Leaves& ours, const Leaves& theirs,
                        const std::optional<KeyPath>& cri) {
  Differences found;
  const auto side = [](const Leaves& leaves, const KeyPath& path) {
    const auto it = leaves.find(path);
    return it == leaves.end() ? std::string("(absent)") : it->second;
  };
  std::set<KeyPath> paths;
  for (const auto& [path, value] : ours) paths.insert(path);
  for (const auto& [path, value] : theirs) paths.insert(path);
  for (const auto& path : paths) {
    const std::string mine = side(ours, path);
    const std::string nvidia = side(theirs, path);
    if (mine != nvidia)
      found[difference_key(path, cri)] = "ours " + mine + ", nvidia-ctk " + nvidia;
  }
  return found;
}

bool added_by(const Case& c, const std::string& runtime_name) {
  return std::any_of(c.steps.begin(), c.steps.end(),
                     [&](const RuntimeStep& step) { return step.name == runtime_name; });
}

// The keys the case's steps may change: the runtimes they add, the default, docker's cdi feature.
bool owned_by_steps(const Case& c, const KeyPath& path) {
  if (c.engine == "docker")
    return path[0] == "default-runtime" || path == KeyPath{"features", "cdi"} ||
           (path[0] == "runtimes" && path.size() > 1 && added_by(c, path[1]));
  if (is_runtime_key(path)) return added_by(c, path[4]);
  return path.size() == 4 && path[0] == "plugins" && is_cri_plugin(path[1]) &&
         path[2] == "containerd" && path[3] == "default_runtime_name";
}

// Every key of the input that ours does not have, with the same value, outside the keys the steps
// own: what we must never lose, whatever nvidia-ctk does.
std::vector<std::string> lost_input_keys(const Case& c, const Leaves& input, const Leaves& ours) {
  std::vector<std::string> lost;
  for (const auto& [path, value] : input) {
    if (owned_by_steps(c, path)) continue;
    const auto it = ours.find(path);
    if (it == ours.end() || it->second != value)
      lost.push_back(difference_key(path, std::nullopt) + " = " + value);
  }
  return lost;
}

// Parses `text` (docker: JSON, "" being {}; containerd: TOML) into its leaves, as written.
Leaves parse_leaves(const Case& c, const std::string& text, const std::string& name) {
  if (c.engine == "docker") return text.empty() ? Leaves{} : leaves_of(nlohmann::json::parse(text));
  return leaves_of(parse_toml(text, name));
}

Differences compare_with_nvidia_ctk(const Case& c, const std::string& ours) {
  if (c.engine == "docker")
    return differences(parse_leaves(c, ours, "ours"),
                       parse_leaves(c, case_file(c, "expected.json"), "expected.json"),
                       std::nullopt);
  const Leaves theirs = containerd_meaning(leaves_of(nvidia_ctk_containerd(c)));
  return differences(containerd_meaning(parse_leaves(c, ours, "ours")), theirs, cri_prefix(theirs));
}

const std::vector<ExpectedDifference>& expected_differences(const std::string& id) {
  static const std::vector<ExpectedDifference> k_none;
  const auto it = k_expected_differences.find(id);
  return it == k_expected_differences.end() ? k_none : it->second;
}

std::set<std::string> expected_keys(const std::string& id) {
  std::set<std::string> keys;
  for (const auto& difference : expected_differences(id)) keys.insert(difference.key);
  return keys;
}

// Says which expected differences are gone: a fixed nvidia-ctk bug, or a change of ours.
void explain_vanished(const std::string& id, const Differences& found) {
  for (const auto& difference : expected_differences(id)) {
    if (found.count(difference.key) == 1) continue;
    UNSCOPED_INFO(difference.key << " no longer differs; it was "
                                 << (difference.why == Why::deliberate ? "deliberate: "
                                                                       : "an nvidia-ctk bug: ")
                                 << difference.reason);
  }
}

std::set<std::string> keys_of(const Differences& found) {
  std::set<std::string> keys;
  for (const auto& [key, what] : found) keys.insert(key);
  return keys;
}

// An `ensure-imports` case: the imports our drop-in mode leaves in config.toml `input`, against
// nvidia-ctk's (the upstream test compares only that key).
Differences compare_imports(const Case& c, const std::string& input) {
  const auto doc = containerd_toml::read_document(input, "config.toml", 2);
  const auto edit = containerd_imports::add_import(doc, *c.ensure_import);
  const auto imports_of = [](const std::string& text, const std::string& name) {
    Leaves leaves;
    const toml::table table = parse_toml(text, name);
    if (const toml::node* imports = table.get("imports"))
      leaves[{"imports"}] = render_node(*imports);
    return leaves;
  };
  return differences(imports_of(edit.text, "ours"),
                     imports_of(case_file(c, "expected.toml"), "expected.toml"), std::nullopt);
}

void check_case(const Case& c) {
  INFO(c.id);
  const std::string input = case_file(c, c.engine == "docker" ? "input.json" : "input.toml");
  std::string refusal;
  const auto ours = c.ensure_import ? std::nullopt : run_ours(c, input, refusal);
  Differences found;
  if (c.ensure_import) {
    found = compare_imports(c, input);
  } else if (ours) {
    const auto lost =
        lost_input_keys(c, parse_leaves(c, input, "input"), parse_leaves(c, *ours, "ours"));
    CHECK(lost == std::vector<std::string>{});
    found = compare_with_nvidia_ctk(c, *ours);
  } else {
    found["(refused)"] = refusal;
  }
  for (const auto& [key, what] : found) UNSCOPED_INFO(key << ": " << what);
  explain_vanished(c.id, found);
  CHECK(keys_of(found) == expected_keys(c.id));
}

}  // namespace

TEST_CASE("every nvidia-ctk case is compared or skipped for a stated reason", "[conformance]") {
  size_t cases = 0;
  for (const auto& engine : fs::directory_iterator(cases_dir())) {
    if (!engine.is_directory()) continue;
    const std::string name = engine.path().filename().string();
    INFO(name << ": a new engine; decide what to compare");
    CHECK((name == "docker" || name == "containerd" || name == "crio" || name == "hook"));
    for (const auto& dir : fs::directory_iterator(engine.path())) {
      const std::string id = name + "/" + dir.path().filename().string();
      ++cases;
      INFO(id);
      if (name != "docker" && name != "containerd") CHECK(k_skipped.count(id) == 1);
      CHECK_FALSE((k_skipped.count(id) == 1 && k_expected_differences.count(id) == 1));
    }
  }
  CHECK(cases == 86);  // as README.md there counts them: a new case must be looked at
  for (const auto& [id, reason] : k_skipped) CHECK(fs::is_directory(cases_dir() / id));
  for (const auto& [id, expected] : k_expected_differences)
    CHECK(fs::is_directory(cases_dir() / id));
}

TEST_CASE("docker: our daemon.json edit means what nvidia-ctk's does or differs as decided",
          "[conformance]") {
  const auto cases = compared_cases("docker");
  CHECK(cases.size() == 22);
  for (const auto& c : cases) check_case(c);
}

TEST_CASE("containerd: our config.toml edit means what nvidia-ctk's does or differs as decided",
          "[conformance]") {
  const auto cases = compared_cases("containerd");
  CHECK(cases.size() == 37);
  size_t as_drop_in = 0;
  for (const auto& c : cases) {
    check_case(c);
    if (writes_drop_in(c, case_file(c, "input.toml"))) ++as_drop_in;
  }
  // The CLI and engine cases that write a drop-in are compared as our drop-in; the installer's
  // and the version 1 ones in place.
  CHECK(as_drop_in == 15);
}
