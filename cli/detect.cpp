// `gpu-node-setup detect`: what GPUs, driver, modules and runtimes are on this host.

#include <iostream>
#include <map>

#include "context.hpp"
#include "error.hpp"
#include "detect/detect.hpp"
#include "host/host_root.hpp"
#include "report/detect_json.hpp"
#include "table.hpp"

namespace gns::cli {
namespace {

struct DetectOptions {
  bool write_ansible_fact = false;
};

std::string or_dash(const std::optional<std::string>& value) { return value ? *value : "-"; }

void print_gpus(std::ostream& out, const detect::PciReport& pci) {
  out << "NVIDIA GPUs: " << pci.gpus.size() << "\n";
  TextTable table({"PCI ADDRESS", "ID", "ARCHITECTURE", "OPEN MODULES", "DRIVER", "NUMA", "NAME"});
  for (const auto& gpu : pci.gpus) {
    const auto& fn = gpu.function;
    table.add_row({fn.address.to_string(), pci::hex4(fn.vendor_id) + ":" + pci::hex4(fn.device_id),
                   std::string(pci::to_string(gpu.architecture)),
                   std::string(pci::to_string(gpu.open_modules)), or_dash(fn.driver),
                   fn.numa_node ? std::to_string(*fn.numa_node) : "-", fn.name});
  }
  if (!pci.gpus.empty()) table.print(out);
  for (const auto& gpu : pci.gpus)
    if (gpu.vgpu)
      out << "  " << gpu.function.address.to_string() << " is a vGPU guest device (host driver "
          << or_dash(gpu.vgpu->host_driver_version) << ", branch "
          << or_dash(gpu.vgpu->host_driver_branch) << ")\n";
}

void print_other_functions(std::ostream& out, const detect::PciReport& pci) {
  if (!pci.nvswitches.empty())
    out << "NVSwitches: " << pci.nvswitches.size() << " (NVIDIA Fabric Manager is needed)\n";
  if (!pci.other_nvidia_functions.empty()) {
    std::map<std::string_view, int> by_kind;
    for (const auto& other : pci.other_nvidia_functions) ++by_kind[pci::to_string(other.kind)];
    out << "Other NVIDIA functions (not GPUs):";
    for (const auto& [kind, count] : by_kind) out << " " << count << " " << kind;
    out << "\n";
  }
  for (const auto& skipped : pci.skipped)
    out << "Skipped " << skipped.address.to_string() << ": " << skipped.reason << "\n";
}

std::string describe_runtimes(const detect::HostFacts& host) {
  std::string text;
  for (const auto& runtime : host.container_runtimes) {
    if (!text.empty()) text += ", ";
    text += runtime.name;
    if (runtime.config_version) text += " (config version " + std::to_string(*runtime.config_version) + ")";
    if (runtime.config_error) text += " (config unreadable: " + *runtime.config_error + ")";
  }
  return text.empty() ? "none found" : text;
}

void print_host(std::ostream& out, const detect::HostFacts& host) {
  const auto& kernel = host.kernel;
  std::string nouveau = kernel.nouveau_loaded ? "loaded" : "not loaded";
  nouveau += kernel.nouveau_blacklisted_in.empty() ? ", not blacklisted" : ", blacklisted in ";
  for (size_t i = 0; i < kernel.nouveau_blacklisted_in.size(); ++i)
    nouveau += (i ? ", " : "") + kernel.nouveau_blacklisted_in[i];
  std::string nvidia = kernel.nvidia_loaded ? "loaded" : "not loaded";
  if (kernel.nvidia_version) nvidia += ", version " + *kernel.nvidia_version;

  out << "Host:\n";
  TextTable table({"OS", host.os ? (host.os->pretty_name.empty() ? host.os->id : host.os->pretty_name)
                                 : "unknown (no os-release)"});
  table.add_row({"Kernel", kernel.release + (kernel.headers_installed ? " (headers installed)"
                                                                       : " (headers missing)")});
  table.add_row({"Secure Boot", std::string(host::to_string(kernel.secure_boot))});
  table.add_row({"nouveau", nouveau});
  table.add_row({"nvidia module", nvidia});
  table.add_row({"Runtimes", describe_runtimes(host)});
  table.add_row({"Container toolkit", host.container_toolkit.installed() ? "installed" : "not installed"});
  table.print(out);
}

void print_human(std::ostream& out, const detect::DetectReport& report) {
  if (report.pci.gpus.empty())
    out << "No NVIDIA GPU found (PCI read from " << report.pci_source << ").\n";
  else
    print_gpus(out, report.pci);
  print_other_functions(out, report.pci);
  print_host(out, report.host);
}

void run_detect(const Context& ctx, const DetectOptions& options, ExitCode& exit_code) {
  const Settings settings = ctx.settings();
  // A dump describes other hardware; writing it as this host's facts would mislead Ansible.
  if (options.write_ansible_fact && settings.pci_dump)
    throw UsageError("--write-ansible-fact describes this host's own PCI devices; it cannot be "
                     "combined with --pci-dump");
  const host::HostRoot root(settings.root);
  const auto log = ctx.log_sink();
  const auto report = detect::detect(root, settings);
  for (const auto& warning : report.pci.warnings) log(LogLevel::warning, "libpci: " + warning);

  const auto document = report::detect_to_json(report);
  if (options.write_ansible_fact) {
    report::write_ansible_fact(root, document);
    log(LogLevel::info, "wrote Ansible fact " + root.resolve(report::k_ansible_fact_path).string());
  }
  if (ctx.json)
    std::cout << document.dump(2) << "\n";
  else
    print_human(std::cout, report);
  exit_code = report.pci.gpus.empty() ? ExitCode::no_gpu : ExitCode::ok;
}

}  // namespace

void register_detect(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<DetectOptions>();
  auto* cmd = app.add_subcommand(
      "detect", "Show NVIDIA GPUs (read through libpci), the kernel, modules and container "
                "runtimes; changes nothing");
  cmd->add_flag("--write-ansible-fact", options->write_ansible_fact,
                "Also write the JSON document to /etc/ansible/facts.d/gpu.fact (under --root), "
                "atomically, for Ansible's ansible_local.gpu");
  cmd->footer(
      "Examples:\n"
      "  gpu-node-setup detect\n"
      "  gpu-node-setup detect --json | jq -r '.gpus[].pci_address'\n"
      "  gpu-node-setup detect --pci-dump lspci-xxx.txt --json\n\n"
      "Exit status: 0 when at least one NVIDIA GPU is found, 3 when none is, 1 on error.");
  cmd->callback([&ctx, options] { run_detect(ctx, *options, ctx.exit_code); });
}

}  // namespace gns::cli
