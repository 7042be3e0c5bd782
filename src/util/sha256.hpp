#pragma once
// SHA-256 (FIPS 180-4) for fingerprinting the files the stages write: the journal records the
// digest of each original and each result, so an undo can tell whether someone changed a file
// after us. Written here because the project links no crypto library.

#include <string>
#include <string_view>

namespace gns::util {

// The SHA-256 digest of `bytes` as 64 lowercase hex digits, like the first column of
// `sha256sum`. Any byte values are allowed. Throws nothing but std::bad_alloc.
std::string sha256_hex(std::string_view bytes);

}  // namespace gns::util
