# Bad input through the real `tessera` executable: the process exits non-zero and stderr names
# the problem. Each test runs tests/cli/expect_failure.cmake, which checks both.
function(tessera_cli_expect_failure name regex one_line)
  add_test(NAME cli.process.${name}
           COMMAND ${CMAKE_COMMAND} -DTESSERA=$<TARGET_FILE:tessera> "-DARGS=${ARGN}" "-DEXPECT=${regex}"
                   -DONE_LINE=${one_line} -P ${CMAKE_CURRENT_SOURCE_DIR}/cli/expect_failure.cmake)
  set_tests_properties(cli.process.${name} PROPERTIES LABELS "cli")
endfunction()
function(tessera_cli_failure_test name regex)
  tessera_cli_expect_failure(${name} "${regex}" 0 ${ARGN})
endfunction()
# The same, and the exit status is 1 (bad input) and stderr one line.
function(tessera_cli_input_error_test name regex)
  tessera_cli_expect_failure(${name} "${regex}" 1 ${ARGN})
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

# Sizes and quantities beyond what the counters and the models hold: one line naming the file and
# the JSON path or operator, never a wrapped count, a crash or a run of hours.
set(a ${PROJECT_SOURCE_DIR}/configs/arch)
tessera_cli_failure_test(huge_softmax
                         "huge_softmax.json: /operators/0: operator 'sm': elements \\(rows x cols\\) exceed 2\\^53"
                         inspect ${d}/huge_softmax.json)
tessera_cli_failure_test(rows_2p63
                         "rows_2p63.json: /operators/0/shape/rows: integer 9223372036854775808 is beyond the accepted range"
                         inspect ${d}/rows_2p63.json)
tessera_cli_failure_test(batch_2p62 "/batch: integer 4611686018427387904 is beyond the accepted range"
                         inspect ${PROJECT_SOURCE_DIR}/configs/models/bert-base-uncased.json --batch 4611686018427387904)
tessera_cli_failure_test(batch_2p40 "bert-base-uncased.json: operator '[^']+': [a-z ()x]+ (exceed|must be at most) 2\\^53"
                         inspect ${PROJECT_SOURCE_DIR}/configs/models/bert-base-uncased.json --batch 1099511627776)
tessera_cli_failure_test(exits_over_one
                         "exits_over_one.json: operator 'b': early_exit probabilities sum to 1.3"
                         inspect ${d}/exits_over_one.json)
tessera_cli_failure_test(array_rows_2p63 "rows_2p63_arch.json: /systolic/rows: integer 9223372036854775807 is beyond"
                         simulate --arch ${d}/rows_2p63_arch.json --workload ${d}/ok_workload.json)
tessera_cli_failure_test(array_cols_wide "wide_arch.json: /systolic/cols: must be at most 65536, got 100000"
                         simulate --arch ${d}/wide_arch.json --workload ${d}/ok_workload.json)
# 2^40 folds: the analytical fidelity times them in closed form (tests/arch/test_systolic.cpp);
# the SystemC fidelity executes tiles one by one and refuses more than 2^22 per layer.
tessera_cli_input_error_test(systemc_tile_bound
                             "long_gemm.json: /operators/0: operator 'gemm': the systemc fidelity executes its 1099511627776 tiles one by one, more than 2\\^22"
                             simulate --arch ${d}/one_pe_arch.json --workload ${d}/long_gemm.json --fidelity systemc)
# Counts that do not fit in 64 bits are errors naming the operator (common/checked.hpp), never
# wrapped or clamped: 2^50 folds of 2^16 cycles on a 65536x1 array, 2^55 bytes at 1e-3 B/cycle.
tessera_cli_input_error_test(cycles_2p66
                             "cycles_2p66.json: /operators/0: operator 'wide': [a-z ]*cycle count does not fit in 64 bits"
                             simulate --arch ${d}/tall_array_arch.json --workload ${d}/cycles_2p66.json)
tessera_cli_input_error_test(bytes_2p55
                             "bytes_2p55.json: /operators/0: operator 'gemm': cycle count does not fit in 64 bits"
                             simulate --arch ${d}/slow_dram_arch.json --workload ${d}/bytes_2p55.json)
# 2^45 bytes at 1e-3 B/cycle: 3.5e16 cycles fit 64 bits (the analytical fidelity times them) but
# not SystemC's clock (64 bits of picoseconds, 1.8e16 one-nanosecond cycles): refused, never wrapped.
tessera_cli_input_error_test(systemc_time_bound
                             "bytes_2p45.json: /operators/0: operator 'gemm': the run could last [0-9]+ cycles up to it, more than the systemc fidelity's clock holds"
                             simulate --arch ${d}/slow_dram_arch.json --workload ${d}/bytes_2p45.json --fidelity systemc)
tessera_cli_input_error_test(conv_2p31
                             "conv_2p31.json: /operators/0: operator 'conv1': weights \\(k x c/groups x r x s\\) exceed 2\\^53"
                             simulate --arch ${d}/ok_arch.json --workload ${d}/conv_2p31.json)
tessera_cli_input_error_test(dram_latency_2p40 "ok_arch.json: /dram/latency_cycles: must be at most 2\\^32"
                             simulate --arch ${d}/ok_arch.json --workload ${d}/ok_workload.json
                             --set dram.latency_cycles=1099511627776)
tessera_cli_input_error_test(transformer_layers_2p40
                             "layers_2p40.json: /num_hidden_layers: 1099511627776 layers of [0-9]+ operators each would build more than 2\\^20 operators"
                             inspect ${d}/layers_2p40.json)
tessera_cli_failure_test(clock_1e300 "clock_1e300.json: /clock: frequency must be in \\[1000, 1e\\+12\\] Hz"
                         simulate --arch ${d}/clock_1e300.json --workload ${d}/ok_workload.json)
tessera_cli_failure_test(bandwidth_1e-300 "bandwidth_1e-300.json: /dram/bandwidth: bandwidth must be in"
                         simulate --arch ${d}/bandwidth_1e-300.json --workload ${d}/ok_workload.json)
tessera_cli_failure_test(sram_1e30 "sram_1e30.json: /sram/ifmap: size must be in \\[1, 1.1259e\\+15\\] B"
                         simulate --arch ${d}/sram_1e30.json --workload ${d}/ok_workload.json)
tessera_cli_failure_test(number_1e400 "number_1e400.json: malformed JSON: number overflow parsing '1e400'"
                         simulate --arch ${d}/number_1e400.json --workload ${d}/ok_workload.json)
tessera_cli_failure_test(duplicate_key "duplicate_key.json: /dram/bandwidth: duplicate key 'bandwidth'"
                         simulate --arch ${d}/duplicate_key.json --workload ${d}/ok_workload.json)
# Found by fuzz_arch_config (an ASan stack-use-after-scope): an engine without a "dram" object
# read its defaults through a reader of a destroyed temporary.
tessera_cli_input_error_test(arch_without_dram "eyeriss_no_dram.json: /drLam: unknown key 'drLam'"
                             check ${d}/eyeriss_no_dram.json)
tessera_cli_failure_test(onnx_conv_rank2_weight "conv_rank2_weight.onnx: .*node 'conv'.*weight shape \\[4, 4\\] must have the rank"
                         inspect ${o}/conv_rank2_weight.onnx)
tessera_cli_failure_test(onnx_lstm_direction "lstm_bad_direction.onnx: .*node 'lstm'.*direction must be forward, reverse or bidirectional, got 'sideways'"
                         inspect ${o}/lstm_bad_direction.onnx)
tessera_cli_failure_test(onnx_lstm_long_sequence "lstm_long_sequence.onnx: .*node 'lstm'.*sequence length 1099511627776 must be in \\[1, 65536\\]"
                         inspect ${o}/lstm_long_sequence.onnx)
tessera_cli_failure_test(onnx_duplicate_output "duplicate_output.onnx: node 'second' \\(Sigmoid\\): output 'y' is also produced by node 'first'"
                         inspect ${o}/duplicate_output.onnx)
tessera_cli_failure_test(onnx_invalid_utf8 "invalid_utf8.onnx: node 0: the name is not valid UTF-8"
                         inspect ${o}/invalid_utf8.onnx)

# Generation runs (--generate): a report with TTFT and TPOT; bad input named.
add_test(NAME cli.process.simulate_generate
         COMMAND tessera simulate --arch ${PROJECT_SOURCE_DIR}/configs/arch/ideal_edge.json
                 --workload ${PROJECT_SOURCE_DIR}/configs/models/gpt2.json --generate 4 --prompt 16)
set_tests_properties(cli.process.simulate_generate PROPERTIES LABELS "cli"
                     PASS_REGULAR_EXPRESSION "TTFT [^\n]*TPOT mean")
tessera_cli_failure_test(generate_not_transformer "lenet5.json: a generation run needs a transformer config"
                         simulate --arch ${PROJECT_SOURCE_DIR}/configs/arch/ideal_edge.json
                         --workload ${PROJECT_SOURCE_DIR}/configs/workloads/lenet5.json --generate 4)
tessera_cli_failure_test(generate_capacity "exceed the DRAM capacity of 1.000 GiB \\(dram.capacity\\)"
                         simulate --arch ${PROJECT_SOURCE_DIR}/configs/arch/ideal_edge.json
                         --workload ${PROJECT_SOURCE_DIR}/configs/models/llama-1b.json --generate 4
                         --set dram.capacity=1GiB)
tessera_cli_failure_test(generate_schedule "/decode_weight_bits: expected a schedule like"
                         simulate --arch ${PROJECT_SOURCE_DIR}/configs/arch/ideal_edge.json
                         --workload ${PROJECT_SOURCE_DIR}/configs/models/gpt2.json --generate 4
                         --set workload.decode_weight_bits=3:x)
# ONNX models that are wrong in ways ONNX's own inference lets through: one line naming the file
# and node (tests/data/onnx, written by scripts/make_onnx_test_data.py).
foreach(opset 13 21)
  tessera_cli_input_error_test(onnx_reshape_count_${opset}
    "reshape_wrong_count_${opset}.onnx: node 'reshape' \\(Reshape\\): reshapes \\[1, 4, 8, 8\\] \\(256 elements\\) to \\[1, 100\\] \\(100 elements\\)"
    inspect ${o}/reshape_wrong_count_${opset}.onnx)
endforeach()
foreach(scale negative zero nan inf)
  foreach(opset 13 19)
    tessera_cli_input_error_test(onnx_resize_${scale}_scale_${opset}
      "resize_${scale}_scale_${opset}.onnx: node 'resize' \\(Resize\\): scale [-a-z0-9.]+ for axis 2 \\(scales must be finite and positive\\)"
      inspect ${o}/resize_${scale}_scale_${opset}.onnx)
  endforeach()
endforeach()
# Sizes that contradict each other or are missing (scripts/make_onnx_test_data.py, shape_errors).
tessera_cli_input_error_test(onnx_convtranspose_negative_output_shape
                             "node 'deconv' \\(ConvTranspose\\): attribute 'output_shape' has a value -6"
                             inspect ${o}/convtranspose_negative_output_shape.onnx)
tessera_cli_input_error_test(onnx_convtranspose_output_shape_too_large
                             "node 'deconv' \\(ConvTranspose\\): output_shape \\[100, 100\\] is larger than the input"
                             inspect ${o}/convtranspose_output_shape_too_large.onnx)
tessera_cli_input_error_test(onnx_batchnorm_channel_mismatch
                             "node 'bn' \\(BatchNormalization\\): input 'scale' has 3 values for 2 channels"
                             inspect ${o}/batchnorm_channel_mismatch.onnx)
tessera_cli_input_error_test(onnx_input_without_shape
                             "node 'conv' \\(Conv\\): .*input 'x' has no shape in the model"
                             inspect ${o}/input_without_shape.onnx)
tessera_cli_input_error_test(onnx_name_line_break
  "name_line_break.onnx: a graph input's name contains a control character"
  inspect ${o}/name_line_break.onnx)
tessera_cli_input_error_test(onnx_node_without_outputs
  "node_without_outputs.onnx: node 1: 'sink' \\(Sigmoid\\) has no outputs"
  inspect ${o}/node_without_outputs.onnx)
tessera_cli_input_error_test(onnx_unknown_input_type
  "unknown_input_type.onnx: input 'x' has element type 99, which ONNX does not define"
  inspect ${o}/unknown_input_type.onnx)
tessera_cli_input_error_test(onnx_unknown_initializer_type
  "unknown_initializer_type.onnx: initializer 'b' has element type 0, which ONNX does not define"
  inspect ${o}/unknown_initializer_type.onnx)
# Kept under --allow-unsupported, a node whose output shape is unknown is said to have an
# unknown cost, not counted as one element in silence.
add_test(NAME cli.process.onnx_unknown_shape_cost
         COMMAND tessera inspect ${o}/unknown_shape_unsupported.onnx --allow-unsupported)
set_tests_properties(cli.process.onnx_unknown_shape_cost PROPERTIES LABELS "cli"
  PASS_REGULAR_EXPRESSION "node 'mystery' \\(Mystery\\): operator of domain 'com.example' is not supported; kept as a zero-cost data-movement node; its cost is unknown: the shape of 'y' is not known")

# Output paths and inputs that are not files (cli/files.hpp, common/input_file.hpp). Nothing here
# writes to a device: /dev/zero is only examined, /dev/stdout is this process's own descriptor,
# pipes are made with mkfifo in the build folder.
set(p ${CMAKE_CURRENT_BINARY_DIR}/cli_paths)
file(MAKE_DIRECTORY ${p})
configure_file(${d}/ok_arch.json ${p}/arch.json COPYONLY)  # a copy: the test that it is kept
set(sim simulate --arch ${d}/ok_arch.json --workload ${d}/ok_workload.json --quiet)
tessera_cli_input_error_test(out_directory
  "--out ${p}: is a directory, not a file an output can be written to" ${sim} --out ${p})
tessera_cli_input_error_test(out_is_input "--out ${p}/./arch.json: is also the run's input --arch"
  simulate --arch ${p}/arch.json --workload ${d}/ok_workload.json --out ${p}/./arch.json)
tessera_cli_input_error_test(trace_is_out "--trace ${p}/same.json: is also the output of --out"
  ${sim} --fidelity systemc --out ${p}/same.json --trace ${p}/same.json)
tessera_cli_input_error_test(arch_dev_zero "/dev/zero: is a character device, not a regular file"
  simulate --arch /dev/zero --workload ${d}/ok_workload.json)
tessera_cli_input_error_test(workload_directory "${d}: is a directory, not a regular file"
  simulate --arch ${d}/ok_arch.json --workload ${d})
add_test(NAME cli.process.out_stdout COMMAND tessera ${sim} --out /dev/stdout)
set_tests_properties(cli.process.out_stdout PROPERTIES LABELS "cli"
                     PASS_REGULAR_EXPRESSION "\"cycles\": 451584")
add_test(NAME cli.process.out_pipe
         COMMAND ${CMAKE_COMMAND} -DTESSERA=$<TARGET_FILE:tessera> "-DARGS=${sim}" -DWORK=${p}/pipe
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/cli/output_onto_pipe.cmake)
set_tests_properties(cli.process.out_pipe PROPERTIES LABELS "cli")

# Design spaces checked when read, before any point runs: one line naming the file and key.
tessera_cli_input_error_test(space_same_key
  "space_same_key.json: /parameters/systolic.rows: sets the key systolic.rows of the architecture config, as /parameters/~1systolic~1rows does"
  sweep ${d}/space_same_key.json --log ${CMAKE_CURRENT_BINARY_DIR}/space_same_key.jsonl)
tessera_cli_input_error_test(space_derived_string
  "space_derived_string.json: /derived/systolic.rows: names systolic.dataflow, whose values are not all numbers"
  sweep ${d}/space_derived_string.json --log ${CMAKE_CURRENT_BINARY_DIR}/space_derived_string.jsonl)

# The vector unit's ranges and work model: a buffer that cannot hold a tile, cycles per element
# whose counts would leave 64 bits, and an elementwise function it does not model are refused
# naming the key or the operator and engine, never looped on, wrapped or costed as nothing.
tessera_cli_input_error_test(vector_buffer_tiny "/vector/buffer: must be at least 32 bytes"
                             simulate --arch ${a}/systolic_tiny_8x8.json --workload ${d}/ok_workload.json
                             --set vector.buffer=3)
tessera_cli_input_error_test(vector_cycles_huge "/vector/cycles/exp: must be in \\[2\\^-16, 2\\^16\\]"
                             simulate --arch ${a}/systolic_tiny_8x8.json --workload ${d}/ok_workload.json
                             --set vector.cycles.exp=1e17)
tessera_cli_failure_test(vector_unknown_function
                         "operator 'f': the vector unit of engine 'systolic' has no work model for elementwise function 'foo'"
                         simulate --arch ${a}/systolic_tiny_8x8.json --workload ${d}/unknown_function.json)

# tessera serve through the executable: a shipped scenario, and bad input as one line.
set(sc ${PROJECT_SOURCE_DIR}/configs/scenarios/lenet5_two_streams_edge.json)
add_test(NAME cli.process.serve_example COMMAND tessera serve ${sc} --set requests=2000)
set_tests_properties(cli.process.serve_example PROPERTIES LABELS "cli" PASS_REGULAR_EXPRESSION "p99 ms")
tessera_cli_input_error_test(serve_bad_rate "lenet5_two_streams_edge.json: /streams/0/arrival/rate_per_s: "
                             serve ${sc} --set streams/0/arrival/rate_per_s=-4)
tessera_cli_input_error_test(serve_unknown_key "lenet5_two_streams_edge.json: /streams/1/slo: unknown key"
                             serve ${sc} --set streams/1/slo=3)
