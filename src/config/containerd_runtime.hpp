#pragma once
// Internal to containerd_config.cpp and containerd_dropin.cpp: the runtime we add — the runtime
// containerd uses by default, copied, with the runtime template's keys laid over it (see
// containerd_config.hpp) — as the tables to write and as the table it must read back as.

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "containerd_config.hpp"
#include "containerd_template.hpp"
#include "containerd_text.hpp"
#include "containerd_toml.hpp"

namespace gns::config::containerd_runtime {

// The runtime's `[runtime]` and `[runtime.options]` tables for `settings`, its keys copied
// from the default runtime of `source` (copied values keep their bytes) with `fragment` laid
// over them, written as `target` (the file they go in: `source` itself, or a fresh drop-in)
// would write them. Throws ConfigError when `target` has no plain table to put them under, or
// the runtime to copy holds an array of tables.
std::vector<containerd_text::NewTable> runtime_tables(const containerd_toml::Document& source,
                                                      const containerd_toml::Document& target,
                                                      const containerd_toml::CriPaths& paths,
                                                      const ContainerdRuntimeSettings& settings,
                                                      const RuntimeFragment& fragment);

// What runtime_tables means: the runtime table a parser must read back.
toml::table expected_runtime(const containerd_toml::Document& source,
                             const containerd_toml::CriPaths& paths,
                             const ContainerdRuntimeSettings& settings,
                             const RuntimeFragment& fragment);

// The explicit runc runtime that stands in for containerd's built-in one where the file's own
// runtimes would replace it (containerd_toml::needs_explicit_runc): the
// `<cri>.containerd.runtimes.runc` table with the one built-in setting that matters,
// `runtime_type = "io.containerd.runc.v2"` (containerd 1.6, 1.7 and 2.x alike). The built-in
// options are left out: all zero values ("", 0, false), which runc reads as it reads no options,
// and named differently from one containerd release to the next. Written as `target` would.
containerd_text::NewTable runc_table(const containerd_toml::Document& target,
                                     const containerd_toml::CriPaths& paths);

// A `[<cri>.containerd]` table holding only `default_runtime_name = name`, written as
// `target` would write it.
containerd_text::NewTable default_table(const containerd_toml::Document& target,
                                        const containerd_toml::CriPaths& paths,
                                        const std::string& name);

}  // namespace gns::config::containerd_runtime
