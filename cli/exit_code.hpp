#pragma once
// Every exit status the tool returns (README.md "Exit codes"); scripts branch on these.

namespace gns::cli {

enum class ExitCode : int {
  ok = 0,      // done; for detect: at least one NVIDIA GPU found
  error = 1,   // something failed; the message on stderr says what
  usage = 2,   // the command line was wrong; nothing was done
  no_gpu = 3,  // detect found no NVIDIA GPU (not an error: the host simply has none)
};

}  // namespace gns::cli
