#include "config/containerd_template.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/containerd_config.hpp"
#include "config/containerd_dropin.hpp"
#include "config/templates.hpp"
#include "config/toml_document.hpp"
#include "error.hpp"
#include "support/config_error.hpp"
#include "support/temp_root.hpp"

using namespace gns::config;

namespace {

const std::string k_path = "/etc/containerd/config.toml";

const std::string k_kubeadm = R"(version = 2

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  privileged_without_host_devices = true

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  systemdCgroup = false
)";

Template shipped() { return read_template({}, k_containerd_runtime_template); }

Template site(const std::string& text) { return {"site/containerd/runtime.toml", text}; }

ContainerdEdit configure(std::string_view text, const Template& tpl,
                         const ContainerdRuntimeSettings& s = {}) {
  return configure_containerd_runtime(text, k_path, 2, s, tpl);
}

// The ConfigError that rendering `text` as the runtime template throws.
gns::ConfigError template_error(const std::string& text) {
  return gns::test::config_error_from(
      [&] { render_runtime_template(site(text), "nvidia", "/usr/bin/nvidia-container-runtime"); }, text);
}

}  // namespace

TEST_CASE("runtime template: the shipped one means what the built-in one does",
          "[config][containerd]") {
  const auto ours = render_runtime_template(shipped(), "nvidia", "/opt/x/nvidia");
  const auto builtin =
      render_runtime_template(builtin_runtime_template(), "nvidia", "/opt/x/nvidia");
  CHECK(ours.table == builtin.table);
  REQUIRE(ours.keys.size() == 1);
  CHECK(ours.keys[0].path == KeyPath{"options", "BinaryName"});
  CHECK(ours.keys[0].string == "/opt/x/nvidia");
  // And so every edit with it is byte for byte the one without.
  const std::string corpus =
      gns::test::read_file(gns::test::test_fixture("containerd/comments-and-custom-keys.toml"));
  for (const std::string& input : {std::string(), k_kubeadm, corpus}) {
    CHECK(configure(input, shipped()).text ==
          configure_containerd_runtime(input, k_path, 2, {}).text);
    CHECK(configure_containerd_dropin(input, k_path, "/etc/containerd/conf.d/99-nvidia.toml", 3, {},
                                      shipped())
              .text ==
          configure_containerd_dropin(input, k_path, "/etc/containerd/conf.d/99-nvidia.toml", 3, {})
              .text);
  }
}

TEST_CASE("runtime template: a site's keys are laid over the copied runtime",
          "[config][containerd]") {
  const Template tpl = site(
      "# the site's\n"
      "privileged_without_host_devices = false\n"
      "pod_annotations = [\"nvidia.com/*\"]\n"
      "options.SystemdCgroup = true\n"
      "options.BinaryName = \"{{runtime_path}}\"\n"
      "options.Root = \"/run/containerd/{{runtime_name}}\"\n");
  const auto edit = configure(k_kubeadm, tpl);
  // Copied keys keep their place and spelling (systemdCgroup) and take the template's value;
  // new ones follow in the template's order.
  CHECK(edit.text == k_kubeadm + R"(
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
  runtime_type = "io.containerd.runc.v2"
  privileged_without_host_devices = false
  pod_annotations = ["nvidia.com/*"]

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
  systemdCgroup = true
  BinaryName = "/usr/bin/nvidia-container-runtime"
  Root = "/run/containerd/nvidia"

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "nvidia"
)");
  // Idempotent and reversible with the site's template, as with ours.
  CHECK_FALSE(configure(edit.text, tpl).changed);
  CHECK(remove_containerd_runtime(edit.text, k_path, "nvidia", std::nullopt).text == k_kubeadm);
}

TEST_CASE("runtime template: strings take the file's quotes and paths stay one string",
          "[config][containerd]") {
  const Template tpl =
      site("options.BinaryName = \"{{runtime_path}}\"\nx = \"{{runtime_name}}\"\n");
  const std::string quoted =
      "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]\n"
      "runtime_type = 'io.containerd.runc.v2'\n";
  CHECK(configure(quoted, tpl, {"nvidia", "/usr/bin/nvidia-container-runtime", false}).text ==
        quoted +
            "\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia]\n"
            "runtime_type = 'io.containerd.runc.v2'\n"
            "x = 'nvidia'\n"
            "\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia.options]\n"
            "BinaryName = '/usr/bin/nvidia-container-runtime'\n");
  const std::string odd = "/opt/we\"ird\\dir/it's";
  const auto fragment = render_runtime_template(tpl, "gpu \"a\"", odd);
  CHECK(fragment.table["options"]["BinaryName"].value<std::string>() == odd);
  CHECK(fragment.table["x"].value<std::string>() == "gpu \"a\"");
}

TEST_CASE("runtime template: a template we cannot use is refused at its own line",
          "[config][containerd]") {
  const auto invalid =
      template_error("# c\n\noptions.BinaryName = \"{{runtime_path}}\"\nx = = 1\n");
  CHECK(invalid.path() == "site/containerd/runtime.toml");
  CHECK(invalid.line() == 4);
  CHECK_THAT(std::string(invalid.what()), Catch::StartsWith("site/containerd/runtime.toml:4:") &&
                                              Catch::Contains("renders to invalid TOML"));
  // A placeholder moved the columns of its line: the line alone is named.
  const auto moved = template_error("options.BinaryName = \"{{runtime_path}}\" x\n");
  CHECK(moved.line() == 1);
  CHECK(moved.column() == 0);
  const auto unknown =
      template_error("options.BinaryName = \"{{runtime_path}}\"\ny = \"{{path}}\"\n");
  CHECK(unknown.line() == 2);
  CHECK(unknown.column() == 6);
  CHECK_THAT(std::string(unknown.what()), Catch::Contains("unknown placeholder {{path}}"));
  CHECK(template_error("options.BinaryName = \"{{runtime_path\"\n").line() == 1);

  // What would make the runtime something else than the NVIDIA runtime.
  CHECK_THAT(std::string(template_error("options.SystemdCgroup = true\n").what()),
             Catch::Contains("does not set options.BinaryName"));
  CHECK(template_error("# x\noptions.BinaryName = \"/usr/bin/runc\"\n").line() == 2);
  const auto kata = template_error(
      "options.BinaryName = \"{{runtime_path}}\"\nruntime_type = \"io.containerd.kata.v2\"\n");
  CHECK(kata.line() == 2);
  CHECK_THAT(std::string(kata.what()), Catch::Contains("runc shim"));
  CHECK(template_error("options.BinaryName = \"{{runtime_path}}\"\n[[x]]\n").line() == 2);
  CHECK(template_error("options = 1\n").line() == 1);
}

TEST_CASE("runtime template: a broken site template stops the edit before any byte",
          "[config][containerd]") {
  const Template broken = site("options.BinaryName = \"{{runtime_path}}\"\nruntime_type = 7\n");
  CHECK_THROWS_WITH(configure(k_kubeadm, broken),
                    Catch::StartsWith("site/containerd/runtime.toml:2:"));
  CHECK_THROWS_WITH(configure_containerd_dropin(
                        k_kubeadm, k_path, "/etc/containerd/conf.d/99-nvidia.toml", 3, {}, broken),
                    Catch::StartsWith("site/containerd/runtime.toml:2:"));
}

TEST_CASE("runtime template: a runc shim type and the v1 shim's Runtime option",
          "[config][containerd]") {
  const Template v1_shim = site(
      "runtime_type = \"io.containerd.runtime.v1.linux\"\n"
      "options.BinaryName = \"{{runtime_path}}\"\n");
  const auto edit = configure("version = 2\n", v1_shim, {"nvidia", "/usr/bin/nvidia", false});
  CHECK(edit.text ==
        "version = 2\n\n"
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
        "  runtime_type = \"io.containerd.runc.v2\"\n\n"
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.nvidia]\n"
        "  runtime_type = \"io.containerd.runtime.v1.linux\"\n\n"
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.nvidia.options]\n"
        "  BinaryName = \"/usr/bin/nvidia\"\n"
        "  Runtime = \"/usr/bin/nvidia\"\n");
}
