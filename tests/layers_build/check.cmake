# SPDX-License-Identifier: Apache-2.0
# Layers.BuildRejectsAnUpwardInclude: the layering is a property of the build. Builds, in
# BUILD_DIR, walcache_layer_probe_legal (wal/ and util/ headers on walcache_wal's include path),
# which must compile, and walcache_layer_probe_upward (an engine/ header there), which must fail
# because the header is not found.
#
#   cmake -DBUILD_DIR=<build tree> -P tests/layers_build/check.cmake
function(build target out_rc out_text)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${target}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${out_rc} ${rc} PARENT_SCOPE)
  set(${out_text} "${out}${err}" PARENT_SCOPE)
endfunction()

build(walcache_layer_probe_legal rc text)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "a wal source including wal/ and util/ headers did not compile:\n${text}")
endif()
build(walcache_layer_probe_upward rc text)
if(rc EQUAL 0)
  message(FATAL_ERROR "a wal source including an engine header compiled:\n${text}")
endif()
if(NOT text MATCHES "engine/cache_impl\\.h: No such file or directory")
  message(FATAL_ERROR "the upward include failed, but not for want of the header:\n${text}")
endif()
message(STATUS "the wal layer's build rejects an engine header and accepts its own and util's")
