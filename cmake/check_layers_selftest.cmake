# The layer check's own test: run on a tree with a planted upward include and a public header
# that includes an internal one (tests/layers_planted/), it must fail and name both.
#
#   cmake -DCHECK=<check_layers.cmake> -DROOT=<planted tree> -P check_layers_selftest.cmake
execute_process(COMMAND ${CMAKE_COMMAND} -DROOT=${ROOT} -P ${CHECK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "the layer check passed a tree with planted upward includes:\n${all}")
endif()
foreach(want "util/upward.h: util includes \"engine/cache_impl.h\""
             "include/walcache/leaky.h: a public header includes")
  string(REPLACE "\n" " " flat "${all}")
  string(REGEX REPLACE " +" " " flat "${flat}")
  string(FIND "${flat}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the layer check did not name ${want}:\n${all}")
  endif()
endforeach()
string(FIND "${all}" "engine/fine.cc" fine)
if(NOT fine EQUAL -1)
  message(FATAL_ERROR "the layer check flagged a legal include:\n${all}")
endif()
message(STATUS "the layer check fails on the planted tree, naming both")
