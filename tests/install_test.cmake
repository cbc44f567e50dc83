# SPDX-License-Identifier: Apache-2.0
# Installs walcache into WORK_DIR/prefix, then configures, builds and runs the consumer project
# in SOURCE_DIR against it, as a user would. Fails (FATAL_ERROR) at the first step that fails.
#
# What is installed:
#   BUILD_DIR=DIR      this build tree (cmake --install), as it is (static by default);
#   SHARED_FROM=SRC    the source tree SRC configured anew with BUILD_SHARED_LIBS=ON and only
#                      the library (no tests, no tools) in SHARED_BUILD_DIR, built, installed.
#                      That directory is kept between runs (and shared by the tests that pass
#                      the same one), so a rerun rebuilds nothing.
# Optional:
#   PROGRAM            the consumer's executable (default walcache_consumer), run with PROGRAM_ARG
#                      (default: a fresh cache directory, WORK_DIR/cache);
#   CXX_FLAGS          for the consumer's compiler (e.g. -Wall -Wextra -Werror);
#   PKG_CONFIG=ON      the consumer finds walcache with pkg-config (walcache.pc), not find_package;
#   EXPECT_SHARED=ON   the consumer must load the installed libwalcache.so.SOVERSION (readelf),
#                      and that library must export the public API and nothing of the layers
#                      below it (nm -D).
#   CONFIG             the build tree's configuration (multi-config generators).
file(REMOVE_RECURSE ${WORK_DIR}/prefix ${WORK_DIR}/consumer ${WORK_DIR}/cache)
set(prefix ${WORK_DIR}/prefix)

function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${name}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

if(SHARED_FROM)
  set(BUILD_DIR ${SHARED_BUILD_DIR})
  # A Release package built without optimisation: what is tested is the package (its soname,
  # its exported targets and pkg-config file, a consumer that links and runs it), not the code's
  # speed: -O3 made this the suite's longest test (71 s alone on an idle machine; 53 s now).
  step("configure the shared library" ${CMAKE_COMMAND} -S ${SHARED_FROM} -B ${BUILD_DIR}
       -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O0 -DNDEBUG"
       -DBUILD_SHARED_LIBS=ON -DWALCACHE_BUILD_TESTS=OFF -DWALCACHE_BUILD_TOOLS=OFF)
  step("build the shared library" ${CMAKE_COMMAND} --build ${BUILD_DIR} --target walcache -j2)
  set(CONFIG Release)
endif()
set(config_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} ${config_args})

if(NOT PROGRAM)
  set(PROGRAM walcache_consumer)
endif()
if(NOT DEFINED PROGRAM_ARG)
  set(PROGRAM_ARG ${WORK_DIR}/cache)
endif()
set(consumer_args)
if(PKG_CONFIG)
  file(GLOB_RECURSE pc_files ${prefix}/walcache.pc)
  if(NOT pc_files)
    message(FATAL_ERROR "install: no walcache.pc under ${prefix}")
  endif()
  get_filename_component(pc_dir "${pc_files}" DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
  list(APPEND consumer_args -DWALCACHE_CONSUMER_PKG_CONFIG=ON)
else()
  list(APPEND consumer_args -DCMAKE_PREFIX_PATH=${prefix})
endif()
step("configure consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/consumer
     -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" ${consumer_args})
step("build consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/consumer -j2)
set(exe ${WORK_DIR}/consumer/${PROGRAM})

if(EXPECT_SHARED)
  file(GLOB_RECURSE libs ${prefix}/libwalcache.so.*)
  if(NOT libs)
    message(FATAL_ERROR "install: no libwalcache.so.* under ${prefix}")
  endif()
  step("read the consumer's dynamic section" readelf -d ${exe})
  if(NOT step_output MATCHES "Shared library: \\[libwalcache\\.so\\.[0-9]+\\.[0-9]+\\]")
    message(FATAL_ERROR "${PROGRAM} does not load libwalcache.so.MAJOR.MINOR:\n${step_output}")
  endif()
  list(GET libs 0 lib)
  step("list the library's exported symbols" nm -D -C --defined-only ${lib})
  foreach(want "walcache::Cache::Open" "walcache::Transaction::Commit" "walcache::Version()")
    string(FIND "${step_output}" "${want}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${lib} does not export ${want}")
    endif()
  endforeach()
  # Every walcache symbol it exports belongs to the public API (include/walcache/); the rest,
  # util's top-level names included, is hidden. A new public class or function goes here too.
  # (A function returning std::string is mangled with an [abi:cxx11] tag after its name.)
  set(public
    "Cache|Transaction|KeyLock|Snapshot|LoadContext|Status|CodeName|Version|WalFormatVersion|Histogram|LogLevelName|EncodeChangeTxn|DecodeChangeTxn")
  string(REPLACE "\n" ";" symbols "${step_output}")
  set(leaked)
  foreach(line IN LISTS symbols)
    string(REGEX REPLACE "^[0-9a-f]* *[A-Za-z] " "" name "${line}")
    string(REGEX REPLACE
      "^(typeinfo name for|typeinfo for|vtable for|VTT for|non-virtual thunk to|guard variable for) "
      "" name "${name}")
    if(name MATCHES "^walcache::" AND NOT name MATCHES "^walcache::(${public})([:( ]|\\[abi:|$)")
      list(APPEND leaked "${name}")
    endif()
  endforeach()
  if(leaked)
    list(JOIN leaked "\n  " leaked)
    message(FATAL_ERROR "${lib} exports internal symbols:\n  ${leaked}")
  endif()
endif()
step("run consumer" ${exe} ${PROGRAM_ARG})
message(STATUS "${step_output}")
