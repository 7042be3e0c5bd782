# GNS_SANITIZE="address;undefined" instruments every target; CI runs the unit tests once so.
if(GNS_SANITIZE)
  string(REPLACE ";" "," gns_sanitizers "${GNS_SANITIZE}")
  add_compile_options(-fsanitize=${gns_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${gns_sanitizers})
endif()
