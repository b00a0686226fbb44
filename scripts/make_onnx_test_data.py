#!/usr/bin/python3
"""Writes the small ONNX files under tests/data/onnx/ that test the ONNX front-end's errors and
a few mappings. Run with Debian's Python (it has onnx 1.12):

    /usr/bin/python3 scripts/make_onnx_test_data.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "onnx")
MODELS = os.path.join(HERE, "..", "workloads", "models")


def relu_model(opset=13, dims=(1, 4, 8, 8), name="relu"):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(dims))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node("Relu", ["x"], ["y"], name=name)
    graph = helper.make_graph([node], "g", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def save(model, name):
    onnx.save_model(model, os.path.join(OUT, name))
    print(name, os.path.getsize(os.path.join(OUT, name)))


def main():
    os.makedirs(OUT, exist_ok=True)
    # A model cut in the middle, and bytes that are no protobuf at all.
    with open(os.path.join(MODELS, "tiny_payload.onnx"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "truncated.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(OUT, "corrupt.onnx"), "wb") as f:
        f.write(bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) + b"this is not an ONNX model\n" * 4)

    save(relu_model(opset=3), "opset3.onnx")
    save(relu_model(opset=99), "opset99.onnx")
    save(relu_model(dims=("N", 4, "H", "W")), "dynamic.onnx")

    # a = Add(x, b_out); b = Relu(a_out): a cycle.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("b_out", TensorProto.FLOAT, [1, 4])
    nodes = [helper.make_node("Add", ["x", "b_out"], ["a_out"], name="a"),
             helper.make_node("Relu", ["a_out"], ["b_out"], name="b")]
    save(helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                           opset_imports=[helper.make_opsetid("", 13)]), "cycle.onnx")

    # An operator the IR does not model (Det), between two supported ones.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Det", ["r"], ["d"], name="det"),
             helper.make_node("Sigmoid", ["d"], ["y"], name="sigmoid")]
    save(helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                           opset_imports=[helper.make_opsetid("", 13)]), "unsupported_op.onnx")

    # Conv variants: grouped with SAME_UPPER auto_pad and dilation, depthwise with stride,
    # a transposed convolution, nodes listed out of order and without names.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 15, 15])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w1 = numpy_helper.from_array(np.zeros((16, 4, 3, 3), np.float32), "w1")
    w2 = numpy_helper.from_array(np.zeros((16, 1, 3, 3), np.float32), "w2")
    w3 = numpy_helper.from_array(np.zeros((16, 4, 4, 4), np.float32), "w3")
    nodes = [
        helper.make_node("ConvTranspose", ["c2", "w3"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1],
                         output_padding=[1, 1]),
        helper.make_node("Conv", ["x", "w1"], ["c1"], group=2, auto_pad="SAME_UPPER",
                         dilations=[2, 2]),
        helper.make_node("Conv", ["c1", "w2"], ["c2"], group=16, strides=[2, 2], pads=[1, 1, 1, 1]),
    ]
    save(helper.make_model(helper.make_graph(nodes, "g", [x], [y], [w1, w2, w3]),
                           opset_imports=[helper.make_opsetid("", 13)]), "convs.onnx")


    # Opset 20: an operator nobody knows between two known ones, and one newer than opset 17
    # (AffineGrid, 20) without a Tessera shape rule, feeding a Relu.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("FancyNewOp", ["r"], ["f"], name="fancy"),
             helper.make_node("Sigmoid", ["f"], ["y"], name="sigmoid")]
    save(helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                           opset_imports=[helper.make_opsetid("", 20)]), "unknown_op_opset20.onnx")
    theta = helper.make_tensor_value_info("theta", TensorProto.FLOAT, [2, 2, 3])
    nodes = [helper.make_node("AffineGrid", ["theta", "size"], ["d"], name="grid"),
             helper.make_node("Relu", ["d"], ["y"], name="relu")]
    size = numpy_helper.from_array(np.array([2, 3, 8, 8], np.int64), "size")
    save(helper.make_model(helper.make_graph(nodes, "g", [theta], [y], [size]),
                           opset_imports=[helper.make_opsetid("", 20)]), "changed_schema.onnx")

    # DFT at opset 20 (axis and dft_length as inputs): a real [2, 64, 1] along the axis input 1,
    # a complex [3, 16, 32, 2] along the default axis -2 (32 points, 48 rows), and a real
    # [4, 100, 1] one-sided along axis 1 with dft_length 128 (65 outputs of a 128-point FFT).
    xr = helper.make_tensor_value_info("xr", TensorProto.FLOAT, [2, 64, 1])
    xc = helper.make_tensor_value_info("xc", TensorProto.FLOAT, [3, 16, 32, 2])
    xl = helper.make_tensor_value_info("xl", TensorProto.FLOAT, [4, 100, 1])
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in ("yr", "yc", "yl")]
    nodes = [helper.make_node("DFT", ["xr", "", "one"], ["yr"], name="dft_axis"),
             helper.make_node("DFT", ["xc"], ["yc"], name="dft_default"),
             helper.make_node("DFT", ["xl", "len", "one"], ["yl"], name="dft_onesided",
                              onesided=1)]
    inits = [numpy_helper.from_array(np.array(1, np.int64), "one"),
             numpy_helper.from_array(np.array(128, np.int64), "len")]
    save(helper.make_model(helper.make_graph(nodes, "g", [xr, xc, xl], outs, inits),
                           opset_imports=[helper.make_opsetid("", 20)]), "dft_opset20.onnx")
    # The axis input naming the last dim (the real and imaginary parts).
    nodes = [helper.make_node("DFT", ["xr", "", "two"], ["yr"], name="dft_last")]
    save(helper.make_model(
        helper.make_graph(nodes, "g", [xr], [outs[0]],
                          [numpy_helper.from_array(np.array(2, np.int64), "two")]),
        opset_imports=[helper.make_opsetid("", 20)]), "dft_opset20_last_axis.onnx")

    # onnxruntime's com.microsoft operators: a 4-bit MatMulNBits (K 64, N 32, blocks of 32),
    # FastGelu, SkipSimplifiedLayerNormalization, and SimplifiedLayerNormalization, which
    # onnxruntime registers in the default domain; payloads zero.
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 8, 64])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    inits = [numpy_helper.from_array(np.zeros((32, 2, 16), np.uint8), "b"),
             numpy_helper.from_array(np.zeros((64,), np.float32), "scales"),
             numpy_helper.from_array(np.ones((32,), np.float32), "gamma")]
    nodes = [helper.make_node("MatMulNBits", ["a", "b", "scales"], ["m"], name="nbits",
                              domain="com.microsoft", K=64, N=32, bits=4, block_size=32),
             helper.make_node("FastGelu", ["m"], ["g"], name="gelu", domain="com.microsoft"),
             helper.make_node("SkipSimplifiedLayerNormalization", ["g", "m", "gamma"], ["s"],
                              name="norm", domain="com.microsoft", epsilon=1e-6),
             helper.make_node("SimplifiedLayerNormalization", ["s", "gamma"], ["y"],
                              name="rms", axis=-1, epsilon=1e-6)]
    save(helper.make_model(helper.make_graph(nodes, "g", [a], [y], inits),
                           opset_imports=[helper.make_opsetid("", 21),
                                          helper.make_opsetid("com.microsoft", 1)]),
         "com_microsoft.onnx")


    # A float16 export's Resize (opset 19) whose scales are float16 too: the folder decodes them.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 2, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT16, None)
    scales = numpy_helper.from_array(np.array([1, 1, 2, 1.5], np.float16), "scales")
    nodes = [helper.make_node("Resize", ["x", "", "scales"], ["y"], name="resize", mode="nearest")]
    save(helper.make_model(helper.make_graph(nodes, "g", [x], [y], [scales]),
                           opset_imports=[helper.make_opsetid("", 19)]), "resize_fp16.onnx")


    # Einsum of one operand: a transpose, then a sum over two labels.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Einsum", ["x"], ["t"], name="transpose", equation="bij->bji"),
             helper.make_node("Einsum", ["t"], ["y"], name="sum", equation="bji->b")]
    save(helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                           opset_imports=[helper.make_opsetid("", 20)]), "einsum_single.onnx")


    # Attributes ONNX 1.12's inference would divide by or index with unchecked.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.zeros((4, 4, 3, 3), np.float32), "w")
    save(helper.make_model(helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", strides=[1, 0])], "g", [x], [y], [w]),
        opset_imports=[helper.make_opsetid("", 13)]), "zero_stride.onnx")
    i = helper.make_tensor_value_info("i", TensorProto.INT64, [1, 5, 2])
    save(helper.make_model(helper.make_graph(
        [helper.make_node("GatherND", ["x", "i"], ["y"], name="gather", batch_dims=-3)], "g", [x, i], [y]),
        opset_imports=[helper.make_opsetid("", 13)]), "gather_nd_batch_dims.onnx")

    # A Conv whose weight has rank 2 (read as rank 4: a heap overflow), an LSTM with a direction
    # ONNX does not define, and one whose unrolled sequence would take hours to build.
    w2 = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "w")
    save(helper.make_model(helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], "g", [x], [y], [w2]),
        opset_imports=[helper.make_opsetid("", 13)]), "conv_rank2_weight.onnx")
    for name, direction, seq in (("lstm_bad_direction.onnx", "sideways", 4),
                                 ("lstm_long_sequence.onnx", "forward", 1 << 40)):
        xs = helper.make_tensor_value_info("x", TensorProto.FLOAT, [seq, 1, 8])
        lw = numpy_helper.from_array(np.ones((1, 32, 8), dtype=np.float32), "W")
        lr = numpy_helper.from_array(np.ones((1, 32, 8), dtype=np.float32), "R")
        save(helper.make_model(helper.make_graph(
            [helper.make_node("LSTM", ["x", "W", "R"], ["y"], name="lstm", hidden_size=8,
                              direction=direction)], "g", [xs], [y], [lw, lr]),
            opset_imports=[helper.make_opsetid("", 13)]), name)

    # Two nodes writing one tensor (ONNX graphs are single-assignment).
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="first"),
             helper.make_node("Sigmoid", ["x"], ["y"], name="second")]
    save(helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                           opset_imports=[helper.make_opsetid("", 13)]), "duplicate_output.onnx")

    # A node name that is not UTF-8: the bytes of a placeholder name replaced, same length.
    data = relu_model(name="NOT_UTF8").SerializeToString().replace(b"NOT_UTF8", b"NOT_\xff\xfe\xfd\xfc")
    with open(os.path.join(OUT, "invalid_utf8.onnx"), "wb") as f:
        f.write(data)

    # Reshapes to a shape of another element count (256 elements to 100), through ONNX's
    # inference (opset 13) and Tessera's rules (opset 21).
    for opset in (13, 21):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
        shape = numpy_helper.from_array(np.array([1, 100], dtype=np.int64), "shape")
        save(helper.make_model(helper.make_graph(
            [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")], "g", [x], [y],
            [shape]), opset_imports=[helper.make_opsetid("", opset)]),
            "reshape_wrong_count_%d.onnx" % opset)

    # Resize scales that give no output (negative, zero, not a number, infinite), through ONNX's
    # inference (opset 13) and Tessera's rules (opset 19).
    for label, scale in (("negative", -2.0), ("zero", 0.0), ("nan", float("nan")),
                         ("inf", float("inf"))):
        for opset in (13, 19):
            x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
            scales = numpy_helper.from_array(np.array([1, 1, scale, 2], dtype=np.float32),
                                             "scales")
            save(helper.make_model(helper.make_graph(
                [helper.make_node("Resize", ["x", "", "scales"], ["y"], name="resize")], "g",
                [x], [y], [scales]), opset_imports=[helper.make_opsetid("", opset)]),
                "resize_%s_scale_%d.onnx" % (label, opset))

    # Element types ONNX does not define: a graph input's (99) and an initializer's (0,
    # UNDEFINED).
    x = helper.make_tensor_value_info("x", 99, [1, 4])
    save(helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")], "g", [x], [y]),
        opset_imports=[helper.make_opsetid("", 13)]), "unknown_input_type.onnx")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    b = helper.make_tensor("b", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    b.data_type = 0
    save(helper.make_model(helper.make_graph(
        [helper.make_node("Add", ["x", "b"], ["y"], name="add")], "g", [x], [y], [b]),
        opset_imports=[helper.make_opsetid("", 13)]), "unknown_initializer_type.onnx")

    # An operator of an unknown domain whose output shape nothing infers: kept under
    # --allow-unsupported, its cost is unknown.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Mystery", ["r"], ["y"], name="mystery", domain="com.example")]
    save(helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                           opset_imports=[helper.make_opsetid("", 13),
                                          helper.make_opsetid("com.example", 1)]),
         "unknown_shape_unsupported.onnx")

    # A graph input whose name holds a line break (found by fuzz_onnx): messages and tables
    # would split over lines.
    save(helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["x\ny"], ["y"], name="relu")], "g",
        [helper.make_tensor_value_info("x\ny", TensorProto.FLOAT, [1, 4])], [y]),
        opset_imports=[helper.make_opsetid("", 13)]), "name_line_break.onnx")

    # A node without outputs (found by fuzz_onnx: the mapping read its first output).
    save(helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu"),
         helper.make_node("Sigmoid", ["y"], [], name="sink")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])], [y]),
        opset_imports=[helper.make_opsetid("", 13)]), "node_without_outputs.onnx")

    shape_errors()


def shape_errors():
    """Sizes that contradict each other or are missing (docs/onnx.md, "Errors"). Run alone with
    /usr/bin/python3 -c 'import sys; sys.path.insert(0, "scripts"); import make_onnx_test_data as m; m.shape_errors()'
    """
    os.makedirs(OUT, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((2, 3, 3, 3), np.float32), "w")
    # ConvTranspose output_shape: negative, and larger than the input can reach (6x6 at most
    # with these strides, kernel and no padding).
    for name, out in (("convtranspose_negative_output_shape.onnx", [-6, 6]),
                      ("convtranspose_output_shape_too_large.onnx", [100, 100])):
        save(helper.make_model(helper.make_graph(
            [helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="deconv",
                              output_shape=out)], "g", [x], [y], [w]),
            opset_imports=[helper.make_opsetid("", 13)]), name)
    # A BatchNormalization whose scale, bias, mean and variance have 3 values for 2 channels.
    params = [numpy_helper.from_array(np.ones(3, np.float32), n)
              for n in ("scale", "bias", "mean", "var")]
    save(helper.make_model(helper.make_graph(
        [helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"],
                          name="bn")], "g", [x], [y], params),
        opset_imports=[helper.make_opsetid("", 13)]), "batchnorm_channel_mismatch.onnx")
    # A graph input with an element type and no shape, used by a convolution.
    xs = helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    wc = numpy_helper.from_array(np.ones((4, 2, 3, 3), np.float32), "w")
    save(helper.make_model(helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], "g", [xs], [y], [wc]),
        opset_imports=[helper.make_opsetid("", 13)]), "input_without_shape.onnx")


if __name__ == "__main__":
    main()
