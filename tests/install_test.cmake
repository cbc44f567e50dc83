# Installs the build in BUILD_DIR into WORK_DIR/prefix, then configures, builds and runs the
# consumer project in SOURCE_DIR against it. Fails (FATAL_ERROR) at the first step that fails.
# Optional: PROGRAM (the consumer's executable, default walcache_consumer) and its one argument
# PROGRAM_ARG; CXX_FLAGS for the consumer's compiler (e.g. -Wall -Wextra -Werror).
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${name}: ok")
endfunction()

set(config_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} ${config_args})
if(NOT PROGRAM)
  set(PROGRAM walcache_consumer)
endif()
step("configure consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/consumer
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
step("build consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/consumer -j2)
step("run consumer" ${WORK_DIR}/consumer/${PROGRAM} ${PROGRAM_ARG})
