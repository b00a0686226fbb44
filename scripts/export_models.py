#!/usr/bin/python3
"""Exports the ONNX models shipped in workloads/models/ (see workloads/models/README.md).

Run with Debian's Python, which has torch 1.13, torchvision 0.14 and onnx 1.12:

    /usr/bin/python3 scripts/export_models.py [OUTPUT_DIR]

Every model is built with weights=None (random initialisation, nothing is downloaded) and
exported in eval mode with training=TrainingMode.PRESERVE, which keeps BatchNormalization nodes
(TrainingMode.EVAL would fold them into the preceding convolutions and change the parameter
count). Float initializers of the torchvision exports are stripped: their dims and data_type
stay, their payload (raw_data / float_data) is cleared, which keeps the files small. Integer
initializers (shape constants) keep their values. The tiny_payload and tiny_external models keep
their payloads (inline and as external data) for the initializer tests.

The MAC counts printed (and listed in the README) come from forward hooks on Conv and Linear
layers, the same way data/reference/model_macs.json was counted.
"""
import os
import sys

import onnx
import torch
import torch.nn as nn
import torchvision

OPSET_CNN = 13
OPSET_TRANSFORMER = 17  # LayerNormalization is an ONNX operator from opset 17

torch.manual_seed(0)


def hook_macs(model, example):
    total = 0

    def conv_hook(m, inp, out):
        nonlocal total
        total += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inp, out):
        nonlocal total
        total += out.numel() * m.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(*example)
    for h in handles:
        h.remove()
    return total


def strip_payloads(model):
    """Clears the payload of every float initializer with more than one element."""
    float_types = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
                   onnx.TensorProto.BFLOAT16}
    for t in model.graph.initializer:
        n = 1
        for d in t.dims:
            n *= d
        if t.data_type in float_types and n > 1:
            t.ClearField("raw_data")
            t.ClearField("float_data")
            t.ClearField("double_data")
            t.ClearField("int32_data")
    return model


def export(model, example, path, opset, input_names, output_names, dynamic_axes=None,
           strip=True, external=False):
    model.eval()
    torch.onnx.export(model, example, path, opset_version=opset, input_names=input_names,
                      output_names=output_names, dynamic_axes=dynamic_axes,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    m = onnx.load(path)
    if strip:
        strip_payloads(m)
    if external:
        data_name = os.path.basename(path) + ".data"
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data_name, size_threshold=0)
    else:
        onnx.save_model(m, path)
    print(f"{os.path.basename(path)}: {os.path.getsize(path)} bytes", flush=True)


class TinyTransformer(nn.Module):
    """Token embedding, two pre-norm encoder blocks with hand-written attention (the head split
    uses x.shape, so the export has Shape -> Gather -> Concat -> Reshape chains), and a head."""

    def __init__(self, vocab=100, dim=32, heads=4, layers=2, ff=64):
        super().__init__()
        self.heads = heads
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            self.blocks.append(nn.ModuleDict({
                "ln1": nn.LayerNorm(dim), "qkv": nn.Linear(dim, 3 * dim), "proj": nn.Linear(dim, dim),
                "ln2": nn.LayerNorm(dim), "fc1": nn.Linear(dim, ff), "fc2": nn.Linear(ff, dim)}))
        self.head = nn.Linear(dim, vocab)

    def forward(self, tokens):
        x = self.embed(tokens)
        for b in self.blocks:
            batch, seq, dim = x.shape
            h = b["ln1"](x)
            qkv = b["qkv"](h).reshape(batch, seq, 3, self.heads, dim // self.heads)
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
            att = torch.softmax(q @ k.transpose(-2, -1) / (dim // self.heads) ** 0.5, dim=-1)
            y = (att @ v).transpose(1, 2).reshape(batch, seq, dim)
            x = x + b["proj"](y)
            x = x + b["fc2"](nn.functional.gelu(b["fc1"](b["ln2"](x))))
        return self.head(x)


class TinyRnn(nn.Module):
    """An LSTM then a bidirectional GRU, sequence-first."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 32)
        self.gru = nn.GRU(32, 24, bidirectional=True)
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.gru(y)
        return self.fc(y[-1])


class TinyConvNet(nn.Module):
    """Conv -> BN -> ReLU -> global pool -> Linear, with known weight values."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)
        with torch.no_grad():
            # conv weight element i (row-major) is i * 0.5; fc weight element i is -i.
            self.conv.weight.copy_(torch.arange(4 * 3 * 3 * 3, dtype=torch.float32).reshape(4, 3, 3, 3) * 0.5)
            self.fc.weight.copy_(-torch.arange(8, dtype=torch.float32).reshape(2, 4))
            self.fc.bias.copy_(torch.tensor([1.5, -2.5]))

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "workloads", "models")
    os.makedirs(out, exist_ok=True)
    tv = torchvision.models
    image = [
        ("resnet18", lambda: tv.resnet18(weights=None), 224),
        ("mobilenet_v2", lambda: tv.mobilenet_v2(weights=None), 224),
        ("resnet34", lambda: tv.resnet34(weights=None), 224),
        ("vgg11", lambda: tv.vgg11(weights=None), 224),
        ("mobilenet_v3_small", lambda: tv.mobilenet_v3_small(weights=None), 224),
        ("efficientnet_b1", lambda: tv.efficientnet_b1(weights=None), 224),
        ("inception_v3", lambda: tv.inception_v3(weights=None, aux_logits=False, init_weights=False), 299),
    ]
    only = set(sys.argv[2:])
    for name, build, size in image:
        if only and name not in only:
            continue
        model = build().eval()
        x = torch.randn(1, 3, size, size)
        print(f"{name}: macs {hook_macs(model, (x,))} params {sum(p.numel() for p in model.parameters())}")
        export(model, (x,), os.path.join(out, name + ".onnx"), OPSET_CNN, ["input"], ["logits"])

    if not only or "shufflenet_v2_x0_5" in only:
        model = tv.shufflenet_v2_x0_5(weights=None).eval()
        x = torch.randn(1, 3, 224, 224)
        print(f"shufflenet_v2_x0_5: macs {hook_macs(model, (x,))} params {sum(p.numel() for p in model.parameters())}")
        export(model, (x,), os.path.join(out, "shufflenet_v2_x0_5.onnx"), OPSET_CNN, ["input"],
               ["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    if not only or "tiny_transformer" in only:
        model = TinyTransformer().eval()
        tokens = torch.randint(0, 100, (2, 8))
        print(f"tiny_transformer: macs (batch 2, seq 8) {hook_macs(model, (tokens,))} (Linear only)")
        export(model, (tokens,), os.path.join(out, "tiny_transformer.onnx"), OPSET_TRANSFORMER,
               ["tokens"], ["logits"],
               dynamic_axes={"tokens": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})
    if not only or "tiny_rnn" in only:
        model = TinyRnn().eval()
        x = torch.randn(5, 2, 16)
        export(model, (x,), os.path.join(out, "tiny_rnn.onnx"), OPSET_CNN, ["x"], ["y"])
    if not only or "tiny_payload" in only:
        model = TinyConvNet().eval()
        x = torch.randn(1, 3, 8, 8)
        export(model, (x,), os.path.join(out, "tiny_payload.onnx"), OPSET_CNN, ["input"], ["logits"],
               strip=False)
        export(model, (x,), os.path.join(out, "tiny_external.onnx"), OPSET_CNN, ["input"], ["logits"],
               strip=False, external=True)


if __name__ == "__main__":
    main()
