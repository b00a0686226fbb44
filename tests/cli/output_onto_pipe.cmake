# cmake -DTESSERA=<exe> -DARGS=<simulate arguments without --out> -DWORK=<folder> -P output_onto_pipe.cmake
# The real executable writes --out onto a pipe (made with mkfifo in WORK) and onto a symbolic link
# to it while `cat` reads the pipe: the report arrives whole, and the pipe and the link are still
# a pipe and a link afterwards (a report renamed over them would have replaced them).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND mkfifo ${WORK}/report.fifo RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mkfifo failed: ${rc}")
endif()
file(CREATE_LINK ${WORK}/report.fifo ${WORK}/link.json SYMBOLIC)
foreach(out report.fifo link.json)
  # Two commands run at once: tessera writes the pipe, cat reads it. TIMEOUT: a tessera that
  # never opened the pipe would leave cat waiting.
  execute_process(COMMAND ${TESSERA} ${ARGS} --out ${WORK}/${out}
                  COMMAND cat ${WORK}/report.fifo
                  RESULTS_VARIABLE codes OUTPUT_VARIABLE report ERROR_VARIABLE err TIMEOUT 120)
  if(NOT codes STREQUAL "0;0")
    message(FATAL_ERROR "--out ${out}: exit codes ${codes}\n${err}")
  endif()
  if(NOT report MATCHES "\"cycles\": 451584")
    message(FATAL_ERROR "--out ${out}: the pipe did not carry the report:\n${report}")
  endif()
  execute_process(COMMAND test -p ${WORK}/report.fifo RESULT_VARIABLE not_fifo)
  if(NOT not_fifo EQUAL 0)
    message(FATAL_ERROR "--out ${out}: ${WORK}/report.fifo is no longer a pipe")
  endif()
  if(NOT IS_SYMLINK ${WORK}/link.json)
    message(FATAL_ERROR "--out ${out}: ${WORK}/link.json is no longer a symbolic link")
  endif()
endforeach()
file(GLOB left RELATIVE ${WORK} ${WORK}/*)
list(SORT left)
if(NOT left STREQUAL "link.json;report.fifo")
  message(FATAL_ERROR "files left in ${WORK}: ${left}")
endif()
message(STATUS "the report went through the pipe; the pipe and the link are unchanged")
