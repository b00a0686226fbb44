# cmake -DTESSERA=<exe> -DARGS=<;-list> -DEXPECT=<regex> -P expect_failure.cmake
# Passes when the command exits non-zero and its stderr matches EXPECT.
execute_process(COMMAND ${TESSERA} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "expected a non-zero exit, got 0\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "stderr does not match '${EXPECT}'\nstderr: ${err}")
endif()
message(STATUS "exit ${rc}: ${err}")
