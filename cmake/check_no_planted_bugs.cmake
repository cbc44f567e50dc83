# Fails unless the static library LIB has no object that reads the planted-bug switch
# (util/injected_bug.h: walcache::internal::injected_bug), i.e. every planted defect is compiled
# out of it. With EXPECT_PLANTED set it requires the opposite, on a planted-bug variant, so the
# check itself is shown able to fail.
#   cmake -DLIB=path/libwalcache.a [-DEXPECT_PLANTED=1] -P check_no_planted_bugs.cmake
execute_process(COMMAND nm -C -A ${LIB} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm ${LIB} failed (${rc})")
endif()
string(REGEX MATCHALL "[^\n]* U walcache::internal::injected_bug[^\n]*" readers "${out}")
list(LENGTH readers n)
if(EXPECT_PLANTED)
  if(n EQUAL 0)
    message(FATAL_ERROR "${LIB}: no object reads the planted-bug switch; the check cannot fail")
  endif()
  message(STATUS "${LIB}: ${n} objects read the planted-bug switch, as a planted variant must")
elseif(NOT n EQUAL 0)
  string(REPLACE ";" "\n" readers "${readers}")
  message(FATAL_ERROR "${LIB} carries planted bugs: these objects read the switch:\n${readers}")
else()
  message(STATUS "${LIB}: no planted bug")
endif()
