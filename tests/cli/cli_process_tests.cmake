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

# Workload front-ends through the executable.
set(o ${CMAKE_CURRENT_SOURCE_DIR}/data/onnx)
tessera_cli_failure_test(onnx_truncated "truncated.onnx: not a valid ONNX model" inspect ${o}/truncated.onnx)
tessera_cli_failure_test(onnx_dynamic "input 'x' has a dynamic dimension" inspect ${o}/dynamic.onnx)
tessera_cli_failure_test(onnx_unsupported "node 'det' \\(Det\\): unsupported operator Det \\(--allow-unsupported"
                         inspect ${o}/unsupported_op.onnx)
tessera_cli_failure_test(batch_for_json "the json front-end does not take the setting 'batch'"
                         inspect ${PROJECT_SOURCE_DIR}/configs/workloads/lenet5.json --batch 4)
tessera_cli_failure_test(settings_typo "/layers/conv9: pattern 'conv9' matches no operator"
                         inspect ${PROJECT_SOURCE_DIR}/configs/workloads/lenet5.json --set workload.layers.conv9.weight_bits=4)
tessera_cli_failure_test(transformer_decode_encoder "decode"
                         inspect ${PROJECT_SOURCE_DIR}/configs/models/bert-base-uncased.json --phase decode)
add_test(NAME cli.process.onnx_allow_unsupported
         COMMAND tessera inspect ${o}/unsupported_op.onnx --allow-unsupported)
set_tests_properties(cli.process.onnx_allow_unsupported PROPERTIES LABELS "cli"
                     PASS_REGULAR_EXPRESSION "warning: .*unsupported operator Det; kept as a zero-cost")
add_test(NAME cli.process.convert_roundtrip
         COMMAND tessera convert ${PROJECT_SOURCE_DIR}/configs/models/gpt2.json --seq-len 16 --to json)
set_tests_properties(cli.process.convert_roundtrip PROPERTIES LABELS "cli"
                     PASS_REGULAR_EXPRESSION "\"format\": \"tessera.workload\"")
