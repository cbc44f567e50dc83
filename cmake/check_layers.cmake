# The layer check: no source includes a header of a layer above its own (docs/design.md,
# "Layers"). The layers, lowest first:
#   util <- wal <- recovery <- engine <- checker <- tools
# The public headers (include/walcache/) stand below them all: any layer may include them, and
# they include only each other and the standard library. tests/ and fuzz/ may include anything.
#
#   cmake -DROOT=<source tree> -P cmake/check_layers.cmake
#
# Prints every upward include (file:line: what) and fails if there is one.
if(NOT DEFINED ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source tree> -P check_layers.cmake")
endif()

set(layers util wal recovery engine checker tools)
set(violations "")

function(layer_rank name out)
  list(FIND layers "${name}" rank)
  set(${out} ${rank} PARENT_SCOPE)
endfunction()

function(check_file path own_layer own_rank public)
  file(STRINGS "${path}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  file(RELATIVE_PATH rel "${ROOT}" "${path}")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" inc "${line}")
    string(REGEX MATCH "^[^/]+" top "${inc}")
    if(top STREQUAL "walcache")
      continue()
    endif()
    if(public)
      set(msg "${rel}: a public header includes \"${inc}\"")
      set(violations "${violations}${msg}\n" PARENT_SCOPE)
      continue()
    endif()
    layer_rank("${top}" rank)
    if(rank GREATER own_rank)
      set(msg "${rel}: ${own_layer} includes \"${inc}\", a header of ${top}, a layer above it")
      set(violations "${violations}${msg}\n" PARENT_SCOPE)
    endif()
  endforeach()
endfunction()

set(rank 0)
foreach(layer IN LISTS layers)
  file(GLOB_RECURSE files "${ROOT}/${layer}/*.h" "${ROOT}/${layer}/*.cc")
  foreach(f IN LISTS files)
    check_file("${f}" ${layer} ${rank} FALSE)
  endforeach()
  math(EXPR rank "${rank} + 1")
endforeach()
file(GLOB_RECURSE public_headers "${ROOT}/include/walcache/*.h")
foreach(f IN LISTS public_headers)
  check_file("${f}" walcache 0 TRUE)
endforeach()

if(violations)
  message(FATAL_ERROR "upward includes:\n${violations}")
endif()
message(STATUS "layers: no upward include under ${ROOT}")
