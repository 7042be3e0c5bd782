#pragma once
// The `detect --json` document (schema in README.md "detect --json"). The same document is
// the Ansible local fact, so playbooks read `ansible_local.gpu.gpus` unchanged.

#include <nlohmann/json.hpp>
#include <string_view>

#include "../detect/detect.hpp"
#include "../host/host_root.hpp"

namespace gns::report {

// Bumped whenever a field changes meaning or disappears (adding a field does not bump it).
constexpr int k_detect_schema_version = 1;

// Where Ansible looks for local facts; the file name makes them `ansible_local.gpu`.
constexpr std::string_view k_ansible_fact_path = "/etc/ansible/facts.d/gpu.fact";

// The detect document for `report`.
nlohmann::ordered_json detect_to_json(const detect::DetectReport& report);

// Writes `document` atomically to /etc/ansible/facts.d/gpu.fact under `root` (mode 0644,
// not executable, so Ansible reads it as JSON). Throws Error when it cannot be written.
void write_ansible_fact(const host::HostRoot& root, const nlohmann::ordered_json& document);

}  // namespace gns::report
