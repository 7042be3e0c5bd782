# Warnings as an INTERFACE target: every target of ours links gns_warnings, so the flags live
# in one place and third-party headers (included as SYSTEM) stay quiet.
add_library(gns_warnings INTERFACE)
target_compile_options(gns_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  $<$<BOOL:${GNS_WERROR}>:-Werror>)
# Debug builds check standard-library preconditions (bounds, null iterators).
target_compile_definitions(gns_warnings INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)
