# Bad input through the real `tessera` executable: the process exits non-zero and stderr names
# the problem. Each test runs tests/cli/expect_failure.cmake, which checks both.
function(tessera_cli_failure_test name regex)
  add_test(NAME cli.process.${name}
           COMMAND ${CMAKE_COMMAND} -DTESSERA=$<TARGET_FILE:tessera> "-DARGS=${ARGN}" "-DEXPECT=${regex}"
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect_failure.cmake)
  set_tests_properties(cli.process.${name} PROPERTIES LABELS "cli")
endfunction()

set(d ${CMAKE_CURRENT_SOURCE_DIR}/data/cli)
tessera_cli_failure_test(malformed_json "malformed.json:4:[0-9]+: malformed JSON" check ${d}/malformed.json)
tessera_cli_failure_test(unknown_key "/dram/latency: unknown key" check ${d}/unknown_key.json)
tessera_cli_failure_test(missing_workload "missing.json: cannot open"
                         simulate --arch ${d}/ok_arch.json --workload ${d}/missing.json)
tessera_cli_failure_test(cyclic_workload "cycle" simulate --arch ${d}/ok_arch.json --workload ${d}/cyclic.json)

add_test(NAME cli.process.simulate_example
         COMMAND tessera simulate --arch ${PROJECT_SOURCE_DIR}/configs/arch/ideal_edge.json
                 --workload ${PROJECT_SOURCE_DIR}/configs/workloads/lenet5.json --fidelity systemc)
set_tests_properties(cli.process.simulate_example PROPERTIES LABELS "cli" PASS_REGULAR_EXPRESSION "total"
                     ENVIRONMENT "SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1")
