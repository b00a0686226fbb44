#!/usr/bin/env python3
"""Exports the corpus of ONNX models made with today's exporters (workloads/models/modern/).

Not run in CI: it needs torch >= 2.9 with timm, transformers 5.x, onnx, onnxscript and
onnxruntime (the device machine has torch 2.11, transformers 5.17, onnx 1.23, onnxruntime 1.30):

    python3 scripts/export_onnx_corpus.py OUT_DIR [NAME ...]      # the corpus, or some models
    python3 scripts/export_onnx_corpus.py OUT_DIR --extra          # the wider sweep (x_*)
    python3 scripts/export_onnx_corpus.py --one NAME OUT_DIR       # one model (used internally)

Each model runs in its own process (a hanging or crashing export cannot take the others down)
and adds one line to OUT_DIR/reference.jsonl the moment it is done; `--collect` turns the lines
into reference.json. Every model is built with random weights (timm `pretrained=False`,
transformers models from their config classes, `torch.manual_seed(0)`), nothing is downloaded.

Reference MACs: torch.utils.flop_counter.FlopCounterMode (FLOPs / 2) over one forward pass of
the same module on the same input (on the GPU when there is one, so that scaled-dot-product
attention runs a kernel FlopCounterMode counts). Payloads are stripped as in
scripts/export_models.py: float initializers with more than one element (except Resize scales,
which decide shapes) and quantized (8-bit and 4-bit) weight initializers keep dims and data_type and lose their data; float Constant nodes
with more than 64 elements likewise; int32/int64 initializers with more than 4096 elements (index
tables such as relative-position indices, never shape constants) too. Other integer initializers
(shape constants, int32 biases) keep their values. The dynamo exporter's per-node metadata (stack
traces, scopes) is dropped.
"""
import json
import os
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

SEQ = 32
IMAGE = 224


# --------------------------------------------------------------------------------------------
# Models: name -> dict(family, build, exporter, opset, ...). `build` returns (module, inputs,
# input_names, source description).

def timm_model(arch, size=IMAGE, batch=1, **kw):
    def build():
        import timm
        import torch
        m = timm.create_model(arch, pretrained=False, **kw)
        return m, (torch.randn(batch, 3, size, size),), ["pixels"], f"timm {arch}"
    return build


def einsum_block():
    """Attention written with torch.einsum (the legacy exporter keeps Einsum nodes): projections
    as 'bsd,de->bse' against a parameter, scores 'bqhd,bkhd->bhqk', output 'bhqk,bkhd->bqhd'."""
    import torch

    class EinsumAttention(torch.nn.Module):
        def __init__(self, dim=64, heads=4):
            super().__init__()
            self.heads = heads
            self.w = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(dim, dim) / 8) for _ in range(4)])

        def forward(self, x):
            b, s, d = x.shape
            q, k, v = (torch.einsum("bsd,de->bse", x, w).reshape(b, s, self.heads, d // self.heads)
                       for w in self.w[:3])
            att = torch.einsum("bqhd,bkhd->bhqk", q, k).softmax(-1)
            o = torch.einsum("bhqk,bkhd->bqhd", att, v).reshape(b, s, d)
            return torch.einsum("bsd,de->bse", o, self.w[3])

    def build():
        return EinsumAttention(), (torch.randn(2, 16, 64),), ["x"], "EinsumAttention (in the script): 4 heads, dim 64"
    return build


def hf_text(cls_name, cfg_name, cfg, batch=1, seq=SEQ, model_cls=None, experts=None):
    def build():
        import torch
        import transformers
        config = getattr(transformers, cfg_name)(**cfg)
        if experts:  # the experts' implementation transformers picks (grouped_mm by default)
            config._experts_implementation = experts
        model = getattr(transformers, model_cls or cls_name)(config)
        ids = torch.randint(3, 200, (batch, seq))
        return Wrap(model, "input_ids"), (ids,), ["input_ids"], f"transformers {cls_name} ({cfg_name}: {short(cfg)})"
    return build


def hf_vision(cls_name, cfg_name, cfg, shape, key="pixel_values", part=None):
    def build():
        import torch
        import transformers
        config = getattr(transformers, cfg_name)(**cfg)
        model = getattr(transformers, cls_name)(config)
        if part:
            model = getattr(model, part)
        return Wrap(model, key), (torch.randn(*shape),), [key], f"transformers {cls_name} ({cfg_name}: {short(cfg)})"
    return build


def short(cfg):
    return ", ".join(f"{k}={v}" for k, v in cfg.items())


def Wrap(model, key):
    import torch

    class W(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            kw = {key: x}
            try:
                out = self.m(**kw, use_cache=False, return_dict=True)
            except TypeError:
                out = self.m(**kw, return_dict=True)
            # Every tensor output (a pooler too), so the export computes what the module does.
            tensors = tuple(v for v in out.values() if isinstance(v, torch.Tensor))
            return tensors[0] if len(tensors) == 1 else tensors

    return W(model)


LM = dict(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
          pad_token_id=0, bos_token_id=1, eos_token_id=2)
BERTLIKE = dict(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, max_position_embeddings=128, pad_token_id=0)

MODELS = {
    # --- CNN and vision models from timm, exported with the dynamo exporter (opset 20 default)
    "convnext_atto": dict(family="cnn", build=timm_model("convnext_atto")),
    "regnety_002": dict(family="cnn", build=timm_model("regnety_002")),
    "mobilenetv4_conv_small": dict(family="cnn", build=timm_model("mobilenetv4_conv_small")),
    "efficientnet_b0": dict(family="cnn", build=timm_model("efficientnet_b0"), opset=21),
    "ghostnet_100": dict(family="cnn", build=timm_model("ghostnet_100")),
    "hrnet_w18_small": dict(family="cnn", build=timm_model("hrnet_w18_small")),
    "nf_resnet26": dict(family="cnn", build=timm_model("nf_resnet26")),
    "repvit_m0_9": dict(family="cnn", build=timm_model("repvit_m0_9")),
    "fastvit_t8": dict(family="vit", build=timm_model("fastvit_t8")),
    "swin_tiny_patch4_window7_224": dict(family="vit", build=timm_model("swin_tiny_patch4_window7_224")),
    "maxvit_nano_rw_256": dict(family="vit", build=timm_model("maxvit_nano_rw_256", size=256)),
    "coatnet_nano_rw_224": dict(family="vit", build=timm_model("coatnet_nano_rw_224")),
    "levit_128s": dict(family="vit", build=timm_model("levit_128s")),
    "mobilevit_xxs": dict(family="vit", build=timm_model("mobilevit_xxs", size=256)),
    "efficientformerv2_s0": dict(family="vit", build=timm_model("efficientformerv2_s0")),
    "deit_tiny_patch16_224": dict(family="vit", build=timm_model("deit_tiny_patch16_224"), opset=23),
    "edgenext_xx_small": dict(family="vit", build=timm_model("edgenext_xx_small", size=256)),
    # --- the same families through the legacy TorchScript exporter
    "resnext26ts_legacy": dict(family="cnn", build=timm_model("resnext26ts"), exporter="legacy", opset=17),
    "mobilenetv3_small_legacy": dict(family="cnn", build=timm_model("mobilenetv3_small_100"), exporter="legacy", opset=18),
    "convnext_atto_legacy": dict(family="cnn", build=timm_model("convnext_atto"), exporter="legacy", opset=18),
    "vit_tiny_legacy": dict(family="vit", build=timm_model("vit_tiny_patch16_224"), exporter="legacy", opset=17),
    # --- transformers, small configs
    "bert": dict(family="llm", build=hf_text("BertModel", "BertConfig", BERTLIKE)),
    "roberta": dict(family="llm", build=hf_text("RobertaModel", "RobertaConfig", dict(BERTLIKE, pad_token_id=1))),
    "distilbert": dict(family="llm", build=hf_text("DistilBertModel", "DistilBertConfig", dict(
        vocab_size=1000, dim=64, hidden_dim=128, n_layers=2, n_heads=4, max_position_embeddings=128))),
    "albert": dict(family="llm", build=hf_text("AlbertModel", "AlbertConfig", dict(BERTLIKE, embedding_size=32))),
    "gpt2": dict(family="llm", build=hf_text("GPT2LMHeadModel", "GPT2Config", dict(
        vocab_size=1000, n_embd=64, n_layer=2, n_head=4, n_positions=128))),
    "llama": dict(family="llm", build=hf_text("LlamaForCausalLM", "LlamaConfig", LM)),
    "llama_opset23": dict(family="llm", build=hf_text("LlamaForCausalLM", "LlamaConfig", LM), opset=23),
    "mistral": dict(family="llm", build=hf_text("MistralForCausalLM", "MistralConfig", LM), opset=21),
    "qwen2": dict(family="llm", build=hf_text("Qwen2ForCausalLM", "Qwen2Config", LM)),
    "qwen2_bf16": dict(family="llm", build=hf_text("Qwen2ForCausalLM", "Qwen2Config", LM), dtype="bfloat16"),
    "phi3": dict(family="llm", build=hf_text("Phi3ForCausalLM", "Phi3Config", LM)),
    "qwen3_opset23": dict(family="llm", build=hf_text("Qwen3ForCausalLM", "Qwen3Config", dict(LM, head_dim=16)), opset=23),
    "gemma3_text": dict(family="llm", build=hf_text("Gemma3ForCausalLM", "Gemma3TextConfig", dict(LM, head_dim=16))),
    "gemma": dict(family="llm", build=hf_text("GemmaForCausalLM", "GemmaConfig", dict(LM, head_dim=16)), opset=23),
    "t5_encoder": dict(family="llm", build=hf_text("T5EncoderModel", "T5Config", dict(
        vocab_size=1000, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4, pad_token_id=0))),
    "bart": dict(family="llm", build=hf_text("BartModel", "BartConfig", dict(
        vocab_size=1000, d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
        max_position_embeddings=128, pad_token_id=1))),
    "vit": dict(family="vit", build=hf_vision("ViTModel", "ViTConfig", dict(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        image_size=224, patch_size=16), (1, 3, 224, 224))),
    "clip_vision": dict(family="vit", build=hf_vision("CLIPVisionModel", "CLIPVisionConfig", dict(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        image_size=224, patch_size=32), (1, 3, 224, 224))),
    "whisper_encoder": dict(family="llm", build=hf_vision("WhisperModel", "WhisperConfig", dict(
        d_model=64, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=128,
        decoder_layers=1, decoder_attention_heads=4, decoder_ffn_dim=128, num_mel_bins=80,
        max_source_positions=64), (1, 80, 128), key="input_features", part="encoder")),
    "einsum_attention_legacy": dict(family="llm", build=einsum_block(), exporter="legacy", opset=18),
    "bert_legacy": dict(family="llm", build=hf_text("BertModel", "BertConfig", BERTLIKE), exporter="legacy", opset=17),
    "roberta_legacy": dict(family="llm", build=hf_text("RobertaModel", "RobertaConfig", dict(BERTLIKE, pad_token_id=1)),
                           exporter="legacy", opset=18),
    "distilbert_dynamic_legacy": dict(family="llm", build=hf_text("DistilBertModel", "DistilBertConfig", dict(
        vocab_size=1000, dim=64, hidden_dim=128, n_layers=2, n_heads=4, max_position_embeddings=128)),
        exporter="legacy", opset=17, dynamic=True),
    "llama_dynamic": dict(family="llm", build=hf_text("LlamaForCausalLM", "LlamaConfig", LM), dynamic=True),
    "convnext_atto_dynamic": dict(family="cnn", build=timm_model("convnext_atto", batch=2), dynamic=True),
    # Mixture of experts: routing is data-dependent; see the README for what the exporter does.
    "mixtral_moe": dict(family="llm", build=hf_text("MixtralForCausalLM", "MixtralConfig", dict(
        LM, num_local_experts=4, num_experts_per_tok=2))),
    "mixtral_moe_eager": dict(family="llm", build=hf_text("MixtralForCausalLM", "MixtralConfig", dict(
        LM, num_local_experts=4, num_experts_per_tok=2), experts="eager")),
    "qwen2_moe": dict(family="llm", build=hf_text("Qwen2MoeForCausalLM", "Qwen2MoeConfig", dict(
        LM, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=64,
        shared_expert_intermediate_size=64))),
    # --- half precision
    "convnext_atto_fp16": dict(family="cnn", build=timm_model("convnext_atto"), dtype="float16"),
    # --- quantized with onnxruntime.quantization (from the float export of the named model)
    "resnet18_qdq": dict(family="cnn", build=timm_model("resnet18"), exporter="legacy", opset=17, quant="qdq"),
    "resnet18_qoperator": dict(family="cnn", build=timm_model("resnet18"), exporter="legacy", opset=17, quant="qoperator"),
    "mobilenetv4_qdq_int4": dict(family="cnn", build=timm_model("mobilenetv4_conv_small"), opset=21, quant="qdq_int4"),
    "bert_dynamic_int8": dict(family="llm", build=hf_text("BertModel", "BertConfig", BERTLIKE), exporter="legacy", opset=17, quant="dynamic"),
    "llama_dynamic_int8": dict(family="llm", build=hf_text("LlamaForCausalLM", "LlamaConfig", LM), quant="dynamic"),
}


# A wider sweep (`--extra`): more timm architectures and transformers families, exported the
# same way, to check the importer on exports beyond the corpus. Names start with "x_".
EXTRA_TIMM = [
    "resnet50", "resnetv2_50", "densenet121", "inception_v3", "dpn68", "mixnet_s",
    "tf_efficientnetv2_b0", "efficientvit_b0", "efficientvit_m0", "mobilevitv2_050", "pit_ti_224",
    "cait_xxs24_224", "xcit_nano_12_p16_224", "pvt_v2_b0", "poolformer_s12", "gcvit_xxtiny",
    "tiny_vit_5m_224", "eva02_tiny_patch14_224", "deit3_small_patch16_224", "crossvit_tiny_240",
    "mvitv2_tiny", "coat_tiny", "visformer_tiny", "convit_tiny", "sequencer2d_s",
    "res2net50_14w_8s", "rexnet_100", "lcnet_050", "hgnetv2_b0", "inception_next_tiny",
    "caformer_s18", "davit_tiny", "focalnet_tiny_srf", "hiera_tiny_224", "mambaout_femto",
    "starnet_s1", "botnet26t_256", "lambda_resnet26t", "halonet26t", "cspdarknet53", "dla34",
    "ese_vovnet19b_dw", "ghostnetv2_100", "nest_tiny", "beit_base_patch16_224",
    "vit_small_patch16_rope_224", "regnetz_b16", "mobilenetv5_300m", "fastvit_mci0",
    "efficientformer_l1", "vit_base_patch16_siglip_224", "swinv2_cr_tiny_224",
]
EXTRA_TIMM_VIT = {  # attention-based (or hybrid) among EXTRA_TIMM; the rest are CNNs
    "pit_ti_224", "cait_xxs24_224", "xcit_nano_12_p16_224", "pvt_v2_b0",
    "gcvit_xxtiny", "tiny_vit_5m_224", "eva02_tiny_patch14_224", "deit3_small_patch16_224",
    "crossvit_tiny_240", "mvitv2_tiny", "coat_tiny", "visformer_tiny",
    "convit_tiny", "caformer_s18", "davit_tiny", "hiera_tiny_224",
    "botnet26t_256", "halonet26t", "nest_tiny", "beit_base_patch16_224",
    "vit_small_patch16_rope_224", "efficientformer_l1", "vit_base_patch16_siglip_224", "swinv2_cr_tiny_224",
    "mobilevitv2_050", "efficientvit_b0", "efficientvit_m0", "lambda_resnet26t"}
EXTRA_SIZE = {"crossvit_tiny_240": 240, "botnet26t_256": 256, "halonet26t": 256,
              "regnetz_b16": 224, "mobilenetv5_300m": 256}
EXTRA_LM = {  # class, config class, extra config keys
    "granite": ("GraniteForCausalLM", "GraniteConfig", {}),
    "olmo2": ("Olmo2ForCausalLM", "Olmo2Config", {}),
    "stablelm": ("StableLmForCausalLM", "StableLmConfig", {}),
    "starcoder2": ("Starcoder2ForCausalLM", "Starcoder2Config", {}),
    "cohere": ("CohereForCausalLM", "CohereConfig", {}),
    "phi": ("PhiForCausalLM", "PhiConfig", {}),
    "gemma2": ("Gemma2ForCausalLM", "Gemma2Config", {"head_dim": 16}),
    "falcon": ("FalconForCausalLM", "FalconConfig", {"num_hidden_layers": 2}),
    "gpt_neox": ("GPTNeoXForCausalLM", "GPTNeoXConfig", {}),
    "smollm3": ("SmolLM3ForCausalLM", "SmolLM3Config", {}),
    "qwen3_moe": ("Qwen3MoeForCausalLM", "Qwen3MoeConfig", {"num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 64, "head_dim": 16}),
}
EXTRA_OTHER = {
    "bloom": ("BloomForCausalLM", "BloomConfig", dict(vocab_size=1000, hidden_size=64, n_layer=2, n_head=4)),
    "opt": ("OPTForCausalLM", "OPTConfig", dict(vocab_size=1000, hidden_size=64, num_hidden_layers=2, ffn_dim=128, num_attention_heads=4, word_embed_proj_dim=64, max_position_embeddings=128, pad_token_id=1)),
    "gptj": ("GPTJForCausalLM", "GPTJConfig", dict(vocab_size=1000, n_embd=64, n_layer=2, n_head=4, rotary_dim=8, n_positions=128)),
    "codegen": ("CodeGenForCausalLM", "CodeGenConfig", dict(vocab_size=1000, n_embd=64, n_layer=2, n_head=4, rotary_dim=8, n_positions=128)),
    "electra": ("ElectraModel", "ElectraConfig", dict(BERTLIKE, embedding_size=32)),
    "xlm_roberta": ("XLMRobertaModel", "XLMRobertaConfig", dict(BERTLIKE, pad_token_id=1)),
    "deberta_v2": ("DebertaV2Model", "DebertaV2Config", dict(BERTLIKE)),
    "mobilebert": ("MobileBertModel", "MobileBertConfig", dict(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128, embedding_size=32, intra_bottleneck_size=32)),
    "modernbert": ("ModernBertModel", "ModernBertConfig", dict(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, pad_token_id=0)),
    "mamba": ("MambaForCausalLM", "MambaConfig", dict(vocab_size=1000, hidden_size=64, num_hidden_layers=2, state_size=8)),
}
EXTRA_VISION = {
    "hf_convnext": ("ConvNextModel", "ConvNextConfig", dict(depths=[1, 1, 1, 1], hidden_sizes=[16, 32, 64, 128]), (1, 3, 224, 224)),
    "hf_dinov2": ("Dinov2Model", "Dinov2Config", dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, image_size=224, patch_size=14), (1, 3, 224, 224)),
    "hf_siglip_vision": ("SiglipVisionModel", "SiglipVisionConfig", dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, image_size=224, patch_size=16), (1, 3, 224, 224)),
    "hf_segformer": ("SegformerModel", "SegformerConfig", dict(depths=[1, 1, 1, 1], hidden_sizes=[16, 32, 64, 128], num_attention_heads=[1, 1, 2, 4]), (1, 3, 224, 224)),
    "hf_swin": ("SwinModel", "SwinConfig", dict(embed_dim=32, depths=[1, 1, 1, 1], num_heads=[1, 2, 4, 8]), (1, 3, 224, 224)),
    "hf_resnet": ("ResNetModel", "ResNetConfig", dict(depths=[1, 1, 1, 1], hidden_sizes=[32, 64, 128, 256]), (1, 3, 224, 224)),
    "hf_wav2vec2": ("Wav2Vec2Model", "Wav2Vec2Config", dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128), (1, 16000), "input_values"),
    "hf_detr_free_yolos": ("YolosModel", "YolosConfig", dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128, image_size=[224, 224]), (1, 3, 224, 224)),
}
EXTRA = {}
for arch in EXTRA_TIMM:
    EXTRA["x_" + arch] = dict(family="vit" if arch in EXTRA_TIMM_VIT else "cnn",
                              build=timm_model(arch, size=EXTRA_SIZE.get(arch, IMAGE)))
for key, (cls, cfg_cls, extra) in EXTRA_LM.items():
    EXTRA["x_" + key] = dict(family="llm", build=hf_text(cls, cfg_cls, dict(LM, **extra)))
for key, (cls, cfg_cls, cfg) in EXTRA_OTHER.items():
    EXTRA["x_" + key] = dict(family="llm", build=hf_text(cls, cfg_cls, cfg))
for key, spec in EXTRA_VISION.items():
    family = {"hf_convnext": "cnn", "hf_resnet": "cnn", "hf_wav2vec2": "audio"}.get(key, "vit")
    EXTRA["x_" + key] = dict(family=family, build=hf_vision(*spec))
for arch in ("resnet50", "densenet121", "eva02_tiny_patch14_224", "poolformer_s12"):
    EXTRA["x_" + arch + "_legacy"] = dict(family="vit" if arch in EXTRA_TIMM_VIT else "cnn",
                                          build=timm_model(arch), exporter="legacy", opset=18)
MODELS.update(EXTRA)


# --------------------------------------------------------------------------------------------

def reference_macs(module, inputs):
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    m = module.to(dev)
    args = tuple(x.to(dev) for x in inputs)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        m(*args)
    per_op = {str(k): int(v) // 2 for k, v in counter.get_flop_counts().get("Global", {}).items()}
    module.to("cpu")
    return counter.get_total_flops() // 2, per_op


def strip_payloads(model):
    import onnx
    from onnx import TensorProto as T
    floats = {T.FLOAT, T.DOUBLE, T.FLOAT16, T.BFLOAT16}
    quantized = {T.INT8, T.UINT8, T.INT4, T.UINT4}

    def numel(t):
        n = 1
        for d in t.dims:
            n *= d
        return n

    def clear(t):
        for field in ("raw_data", "float_data", "double_data", "int32_data"):
            t.ClearField(field)

    # Resize/Upsample scales decide output shapes: they keep their values.
    scales = {n.input[i] for n in model.graph.node if n.op_type in ("Resize", "Upsample")
              for i in ((2,) if n.op_type == "Resize" else (1,)) if i < len(n.input)}
    for t in model.graph.initializer:
        if t.name in scales:
            continue
        if (t.data_type in floats or t.data_type in quantized) and numel(t) > 1:
            clear(t)
        elif t.data_type in (T.INT64, T.INT32) and numel(t) > 4096:
            clear(t)
            t.ClearField("int64_data")
    for n in model.graph.node:  # the dynamo exporter's per-node stack traces and scopes
        n.ClearField("metadata_props")
        n.ClearField("doc_string")
    for n in model.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value" and a.t.data_type in floats and numel(a.t) > 64:
                    clear(a.t)
    return model


def export_one(name, out_dir):
    import numpy as np
    import onnx
    import torch
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    spec = MODELS[name]
    module, inputs, input_names, source = spec["build"]()
    module.eval()
    exporter = spec.get("exporter", "dynamo")
    opset = spec.get("opset", 20 if exporter == "dynamo" else 17)
    macs, per_op = reference_macs(module, inputs)
    dtype = spec.get("dtype")
    if dtype:
        module = module.to(getattr(torch, dtype))
        inputs = tuple(x.to(getattr(torch, dtype)) if x.is_floating_point() else x for x in inputs)
    path = os.path.join(out_dir, name + ".onnx")
    float_path = path + ".float.onnx" if spec.get("quant") else path
    t0 = time.time()
    with torch.no_grad():
        dynamic = spec.get("dynamic", False)
        if exporter == "dynamo":
            kw = dict(dynamo=True, opset_version=opset, input_names=input_names, external_data=False)
            if dynamic:  # batch and, for token inputs, sequence length
                dims = {0: torch.export.Dim("batch", max=64)}
                if inputs[0].dim() == 2:
                    dims[1] = torch.export.Dim("seq", max=128)
                kw["dynamic_shapes"] = (dims,)
            torch.onnx.export(module, inputs, float_path, **kw)
        else:
            kw = {}
            if dynamic:
                kw["dynamic_axes"] = {input_names[0]: {0: "batch", 1: "seq"}}
            torch.onnx.export(module, inputs, float_path, dynamo=False, opset_version=opset,
                              input_names=input_names, do_constant_folding=True, **kw)
    export_s = time.time() - t0
    quant = spec.get("quant")
    if quant:
        quantize(quant, float_path, path, input_names, [tuple(x.shape) for x in inputs], inputs)
        os.remove(float_path)
        data = float_path + ".data"
        if os.path.exists(data):
            os.remove(data)
    m = onnx.load(path)
    strip_payloads(m)
    opsets = {(o.domain or "ai.onnx"): o.version for o in m.opset_import}
    ops = sorted({(n.domain or "ai.onnx") + "::" + n.op_type for n in m.graph.node})
    for f in os.listdir(out_dir):
        if f.startswith(name + ".onnx") and f != name + ".onnx":
            os.remove(os.path.join(out_dir, f))
    onnx.save_model(m, path)
    dyn = {i.name: [d.dim_param for d in i.type.tensor_type.shape.dim if d.dim_param]
           for i in m.graph.input}
    rec = dict(name=name, file=name + ".onnx", family=spec["family"], source=source,
               dynamic_dims={k: v for k, v in dyn.items() if v},
               exporter=exporter, opset=opsets.get("ai.onnx"), opsets=opsets,
               inputs={n: list(x.shape) for n, x in zip(input_names, inputs)},
               input_dtypes={n: str(x.dtype) for n, x in zip(input_names, inputs)},
               reference_macs=int(macs), macs_by_aten_op=per_op, dtype=dtype or "float32",
               quantization=quant, bytes=os.path.getsize(path), export_seconds=round(export_s, 1),
               op_types=ops, torch=torch.__version__, onnx=onnx.__version__)
    return rec


def quantize(kind, src, dst, input_names, shapes, inputs):
    import numpy as np
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_dynamic, quantize_static)
    if kind == "dynamic":
        quantize_dynamic(src, dst, weight_type=QuantType.QInt8)
        return

    class Reader(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.items = iter([{n: rng.standard_normal(s).astype(np.float32)
                                for n, s in zip(input_names, shapes)} for _ in range(4)])

        def get_next(self):
            return next(self.items, None)

    fmt = QuantFormat.QOperator if kind == "qoperator" else QuantFormat.QDQ
    weight = QuantType.QInt4 if kind == "qdq_int4" else QuantType.QInt8
    try:  # ORT's recommended pre-processing (shape inference, constants to initializers)
        from onnxruntime.quantization.shape_inference import quant_pre_process
        quant_pre_process(src, src + ".pre.onnx")
        src = src + ".pre.onnx"
    except Exception as e:
        print(f"quant_pre_process failed ({e}); quantizing the export as it is", flush=True)
    quantize_static(src, dst, Reader(), quant_format=fmt, activation_type=QuantType.QUInt8,
                    weight_type=weight, per_channel=kind != "qdq_int4")


def run_all(out_dir, names):
    os.makedirs(out_dir, exist_ok=True)
    log = os.path.join(out_dir, "reference.jsonl")
    done = set()
    if os.path.exists(log):
        for line in open(log):
            rec = json.loads(line)
            if "reference_macs" in rec:
                done.add(rec["name"])
    todo = [n for n in names if n not in done]
    print(f"{len(todo)} models to export ({len(done)} already done)", flush=True)

    def one(name):
        t0 = time.time()
        try:
            p = subprocess.run([sys.executable, __file__, "--one", name, out_dir],
                               capture_output=True, text=True, timeout=420)
            ok = p.returncode == 0
            tail = (p.stdout + p.stderr)[-3000:]
        except subprocess.TimeoutExpired:
            ok, tail = False, "timed out after 420 s"
        if not ok:
            with open(log, "a") as f:
                f.write(json.dumps(dict(name=name, error=tail)) + "\n")
        print(f"[{time.time() - t0:6.1f} s] {name}: {'ok' if ok else 'FAILED'}", flush=True)
        if not ok:
            print(tail[-1500:], flush=True)

    with ThreadPoolExecutor(max_workers=int(os.environ.get("JOBS", "8"))) as pool:
        list(pool.map(one, todo))


# --------------------------------------------------------------------------------------------
# Single-operator models for the schemas that changed after opset 17 and the newer operators;
# ONNX's own shape inference (the installed onnx, strict mode) gives each output's shape, stored
# in ops.json beside them: the reference for Tessera's shape propagation.

def op_models():
    import numpy as np
    from onnx import TensorProto as T, helper, numpy_helper
    F = T.FLOAT

    def vi(name, shape, t=F):
        return helper.make_tensor_value_info(name, t, shape)

    def const(name, values, t=np.int64):
        return numpy_helper.from_array(np.array(values, dtype=t), name)

    def model(name, opset, nodes, inputs, outputs, inits=(), domain_opsets=()):
        g = helper.make_graph(nodes, name, inputs,
                              [helper.make_empty_tensor_value_info(o) for o in outputs], list(inits))
        ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in domain_opsets]
        return name, helper.make_model(g, opset_imports=ops, ir_version=10)

    N = helper.make_node
    x4 = vi("x", [2, 8, 6, 10])
    yield model("reduce_mean_axes_input", 18, [N("ReduceMean", ["x", "axes"], ["y"], keepdims=0)],
                [x4], ["y"], [const("axes", [1, -1])])
    yield model("reduce_sum_noop", 18, [N("ReduceSum", ["x", "axes"], ["y"], noop_with_empty_axes=1)],
                [x4], ["y"], [const("axes", [], np.int64)])
    yield model("reduce_max_all", 20, [N("ReduceMax", ["x"], ["y"], keepdims=1)], [x4], ["y"])
    yield model("split_num_outputs", 18, [N("Split", ["x"], ["a", "b", "c"], axis=3, num_outputs=3)],
                [x4], ["a", "b", "c"])
    yield model("split_sizes", 18, [N("Split", ["x", "s"], ["a", "b"], axis=1)], [x4], ["a", "b"],
                [const("s", [3, 5])])
    yield model("pad_axes", 18, [N("Pad", ["x", "p", "", "ax"], ["y"], mode="reflect")], [x4], ["y"],
                [const("p", [1, 2, 3, 0]), const("ax", [2, 3])])
    yield model("resize_scales", 19, [N("Resize", ["x", "", "sc"], ["y"], mode="nearest")], [x4], ["y"],
                [const("sc", [1, 1, 2, 1.5], np.float32)])
    yield model("resize_sizes_axes", 19, [N("Resize", ["x", "", "", "sz"], ["y"], axes=[2, 3],
                                            keep_aspect_ratio_policy="not_larger")], [x4], ["y"],
                [const("sz", [12, 12])])
    yield model("squeeze_unsqueeze", 21, [N("Unsqueeze", ["x", "a"], ["u"]), N("Squeeze", ["u", "a"], ["y"])],
                [x4], ["y", "u"], [const("a", [0, -1])])
    yield model("layer_norm", 17, [N("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1)],
                [x4, vi("g", [10]), vi("b", [10])], ["y"])
    yield model("group_norm_21", 21, [N("GroupNormalization", ["x", "g", "b"], ["y"], num_groups=4)],
                [x4, vi("g", [8]), vi("b", [8])], ["y"])
    yield model("rms_norm_23", 23, [N("RMSNormalization", ["x", "g"], ["y"], axis=-1)],
                [x4, vi("g", [10])], ["y"])
    yield model("gelu_20", 20, [N("Gelu", ["x"], ["y"], approximate="tanh")], [x4], ["y"])
    yield model("attention_4d_gqa", 23, [N("Attention", ["q", "k", "v"], ["y"], is_causal=1)],
                [vi("q", [2, 8, 16, 32]), vi("k", [2, 2, 16, 32]), vi("v", [2, 2, 16, 24])], ["y"])
    yield model("attention_3d", 23, [N("Attention", ["q", "k", "v", "m"], ["y"], q_num_heads=4, kv_num_heads=2)],
                [vi("q", [2, 16, 128]), vi("k", [2, 20, 64]), vi("v", [2, 20, 48]), vi("m", [16, 20])], ["y"])
    yield model("rotary_embedding", 23, [N("RotaryEmbedding", ["x", "cos", "sin", "pos"], ["y"], num_heads=4)],
                [vi("x", [2, 16, 64]), vi("cos", [128, 8]), vi("sin", [128, 8]), vi("pos", [2, 16], T.INT64)], ["y"])
    yield model("einsum_bmm", 20, [N("Einsum", ["a", "b"], ["y"], equation="bij,bjk->bik")],
                [vi("a", [3, 5, 7]), vi("b", [3, 7, 4])], ["y"])
    yield model("einsum_attention", 20, [N("Einsum", ["q", "k"], ["y"], equation="bhqd,bhkd->bhqk")],
                [vi("q", [2, 4, 16, 8]), vi("k", [2, 4, 12, 8])], ["y"])
    yield model("einsum_ellipsis", 20, [N("Einsum", ["a", "b"], ["y"], equation="...ij,jk")],
                [vi("a", [2, 3, 5, 7]), vi("b", [7, 4])], ["y"])
    yield model("gather_nd", 18, [N("GatherND", ["x", "i"], ["y"], batch_dims=1)],
                [x4, vi("i", [2, 5, 2], T.INT64)], ["y"])
    yield model("scatter_nd", 18, [N("ScatterND", ["x", "i", "u"], ["y"], reduction="add")],
                [x4, vi("i", [3, 2], T.INT64), vi("u", [3, 6, 10])], ["y"])
    yield model("cumsum", 18, [N("CumSum", ["x", "ax"], ["y"])], [x4], ["y"], [const("ax", 2)])
    yield model("isnan_where", 20, [N("IsNaN", ["x"], ["m"]), N("Where", ["m", "z", "x"], ["y"])],
                [x4, vi("z", [1])], ["y"])
    yield model("center_crop_pad", 18, [N("CenterCropPad", ["x", "s"], ["y"], axes=[2, 3])], [x4], ["y"],
                [const("s", [4, 12])])
    yield model("topk_argmax", 20, [N("TopK", ["x", "k"], ["v", "i"], axis=1), N("ArgMax", ["v"], ["y"], axis=-1)],
                [x4], ["y", "v"], [const("k", [3])])


def write_op_models(out_dir):
    import onnx
    os.makedirs(out_dir, exist_ok=True)
    shapes = {}
    for name, m in op_models():
        try:
            inferred = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True,
                                                         data_prop=True)
        except Exception as e:  # reported, not stored: the reference must come from ONNX
            print(f"{name}: ONNX shape inference failed: {e}", flush=True)
            continue
        known = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
                 for v in list(inferred.graph.value_info) + list(inferred.graph.output)
                 if v.type.tensor_type.HasField("shape")}
        shapes[name] = {o.name: known[o.name] for o in m.graph.output if o.name in known}
        onnx.save_model(m, os.path.join(out_dir, name + ".onnx"))
    with open(os.path.join(out_dir, "ops.json"), "w") as f:
        json.dump(dict(onnx=onnx.__version__, outputs=shapes), f, indent=1, sort_keys=True)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "--one":
        name, out_dir = sys.argv[2], sys.argv[3]
        try:
            rec = export_one(name, out_dir)
        except Exception:
            traceback.print_exc()
            sys.exit(1)
        with open(os.path.join(out_dir, "reference.jsonl"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "--ops":
        write_op_models(sys.argv[2])
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "--collect":
        out_dir = sys.argv[2]
        recs = {}
        for line in open(os.path.join(out_dir, "reference.jsonl")):
            rec = json.loads(line)
            recs.setdefault(rec["name"], rec)
            if "reference_macs" in rec:
                recs[rec["name"]] = rec
        with open(os.path.join(out_dir, "reference.json"), "w") as f:
            json.dump(dict(models=[recs[k] for k in sorted(recs)]), f, indent=1)
        return
    out_dir = sys.argv[1]
    names = sys.argv[2:] or [n for n in MODELS if n not in EXTRA]
    if names == ["--extra"]:
        names = list(EXTRA)
    run_all(out_dir, names)


if __name__ == "__main__":
    main()
