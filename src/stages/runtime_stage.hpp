#pragma once
// The runtime stage: wires the NVIDIA runtime into the node's container runtime and makes it
// the default, by editing the runtime's own config surgically (CRI-O: a drop-in file of our
// own beside it), then restarts the runtime only when that changed something.

#include <optional>
#include <string>

#include "../settings.hpp"
#include "stage.hpp"

namespace gns::stages {

// "docker", "containerd", "crio", "k3s".
std::string_view to_string(RuntimeKind kind);

// Parses a --runtime value; nullopt for an unknown name.
std::optional<RuntimeKind> parse_runtime_kind(std::string_view name);

// The runtime to configure under `root`: `wanted` when given, else the one installed
// (k3s, then CRI-O, then containerd unless only Docker uses it, then Docker).
// Throws Error when none is installed and none was asked for.
RuntimeKind choose_runtime(const host::HostRoot& root, std::optional<RuntimeKind> wanted);

class RuntimeStage : public Stage {
public:
  explicit RuntimeStage(RuntimeSettings settings) : m_settings(std::move(settings)) {}

  std::string_view name() const override { return "runtime"; }
  // Judges what the journal says was applied (runtime, file, name, path) when it holds a
  // record and no --runtime was named; else the runtime apply would pick, with these settings.
  Inspection inspect(const StageContext& ctx, const StageRecord* applied) const override;
  StagePlan plan(const StageContext& ctx) const override;
  std::optional<std::string> remove_own_changes(const std::string& path, const std::string& current,
                                                const nlohmann::json& undo) const override;

private:
  // Judges one runtime's config against these settings, without any restart check.
  Inspection judge(const StageContext& ctx, RuntimeKind kind, bool applied_before) const;
  // The config file `kind` reads (the --config override, or its usual path).
  std::string config_path(RuntimeKind kind) const;
  StagePlan plan_docker(const StageContext& ctx) const;
  StagePlan plan_containerd(const StageContext& ctx) const;
  StagePlan plan_crio(const StageContext& ctx) const;
  // k3s and RKE2 (runtime_k3s.cpp): default-runtime in config.yaml, and a containerd drop-in
  // where k3s's generated containerd config imports one.
  StagePlan plan_k3s(const StageContext& ctx) const;
  // k3s's config.yaml: the --config override, else RKE2's when only RKE2 is installed, else k3s's.
  std::string k3s_config_path(const host::HostRoot& root) const;
  // remove_own_changes for one runtime's file; `record` is its part of the undo data.
  std::string remove_docker_changes(const std::string& path, const std::string& current,
                                    const nlohmann::json& record) const;
  std::string remove_containerd_changes(const std::string& path, const std::string& current,
                                        const nlohmann::json& record) const;
  // nullopt when nothing of the user's is left and the file was absent before: restore that.
  std::optional<std::string> remove_k3s_changes(const std::string& current,
                                                const nlohmann::json& record) const;
  // The restart that makes an edited config take effect, when it may and should run now.
  void add_restart(const StageContext& ctx, const std::string& service, StagePlan& plan) const;
  // The same for a runtime that runs as one of `services` (k3s or k3s-agent): the first
  // active one is restarted.
  void add_restart(const StageContext& ctx, const std::vector<std::string>& services,
                   StagePlan& plan) const;

  RuntimeSettings m_settings;
};

}  // namespace gns::stages
