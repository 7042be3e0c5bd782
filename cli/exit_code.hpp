#pragma once
// Every exit status the tool returns (README.md "Exit codes"); scripts branch on these.

namespace gns::cli {

enum class ExitCode : int {
  ok = 0,      // done; for detect: at least one NVIDIA GPU found
  error = 1,   // something failed; the message on stderr says what
  usage = 2,   // the command line was wrong; nothing was done
  no_gpu = 3,  // detect found no NVIDIA GPU (not an error: the host simply has none)
  locked = 4,  // another run held the lock past --lock-timeout; nothing was done
  invalid_config = 5,  // a config file could not be understood (file:line:col); nothing written
  revert_refused = 6,  // revert would discard changes made after apply; see --force
  reboot_required = 7,  // apply did what it could; a reboot is needed, then apply again
  unsupported_distro = 8,  // no package system or driver path this tool knows; nothing was done
  vgpu_guest = 9,          // a vGPU guest needs the GRID guest driver (--driver-run); nothing was done
  secure_boot_unsigned = 10,  // Secure Boot on, only unsigned modules possible; nothing was done
  missing_kernel_headers = 11,  // no repository has the running kernel's headers; nothing was done
};

}  // namespace gns::cli
