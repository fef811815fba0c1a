"""ONNX export of a model directory's networks (opset 17, dynamic batch and length axes) and int8 dynamic
quantisation with onnxruntime.

Graph inputs ``inputs`` (fbank ``(B, T, 80)`` float32, or token ids ``(B, L)`` int64) and ``lengths`` ``(B,)``
int64; outputs ``log_probs`` ``(B, T', V)`` float32 and ``out_lengths`` ``(B,)`` int64: the same call as the
torch model (:class:`phonasr.models.CtcModel`).

The Conformer exports as it is (TorchScript tracing). The token Transformer does not: ``nn.MultiheadAttention``
traces its sequence length and batch size into reshape constants, and an exported P2G then fails on any other
shape. :class:`ExportableTokenModel` computes the same function from the same weights with explicit matrix
products, so every shape stays symbolic; the tests compare it with the torch model to 1e-4.
"""
from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from phonasr.models.ctc_model import CtcModel
from phonasr.models.masking import lengths_to_mask
from phonasr.models.transformer import TokenTransformerEncoder
from phonasr.serve.model_dir import MANIFEST, ModelDir, read_manifest, sha256_of
from phonasr.serve.networks import stored_component
from phonasr.utils.io import atomic_path, atomic_write_text

logger = logging.getLogger(__name__)

OPSET = 17
INPUT_NAMES = ["inputs", "lengths"]
OUTPUT_NAMES = ["log_probs", "out_lengths"]


class ExportableTokenModel(nn.Module):
    """The token CTC model (P2G, G2P) of a :class:`CtcModel` as plain tensor operations (eval mode only)."""

    def __init__(self, model: CtcModel) -> None:
        super().__init__()
        encoder = model.encoder
        if not isinstance(encoder, TokenTransformerEncoder):
            raise TypeError("ExportableTokenModel takes a token model (P2G or G2P)")
        self.encoder, self.output = encoder, model.output
        self.num_heads = encoder.config.num_heads

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        enc = self.encoder
        tokens = tokens.masked_fill(~lengths_to_mask(lengths, tokens.size(1)), 0)
        x, lengths = enc.embed_inputs(tokens, lengths)
        valid = lengths_to_mask(lengths, x.size(1))
        bias = torch.zeros_like(valid, dtype=x.dtype).masked_fill(~valid, float("-inf"))[:, None, None, :]
        for layer in enc.layers.layers:
            x = x + self._attention(layer.self_attn, layer.norm1(x), bias)
            x = x + layer.linear2(F.gelu(layer.linear1(layer.norm2(x))))
        x = enc.layers.norm(x)
        return torch.log_softmax(self.output(x).float(), dim=-1), lengths

    def _attention(self, attn: nn.MultiheadAttention, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.num_heads
        q, k, v = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
        q, k, v = (y.reshape(b, t, h, d // h).transpose(1, 2) for y in (q, k, v))
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d // h) + bias
        out = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, t, d)
        return attn.out_proj(out)


def exportable(model: CtcModel) -> nn.Module:
    """The module to trace: the model itself for the Conformer, :class:`ExportableTokenModel` for token models."""
    return ExportableTokenModel(model) if isinstance(model.encoder, TokenTransformerEncoder) else model


def example_inputs(model: CtcModel) -> Tuple[torch.Tensor, torch.Tensor]:
    """A padded batch of two for tracing (two lengths, so nothing depends on the batch being uniform)."""
    if isinstance(model.encoder, TokenTransformerEncoder):
        return torch.randint(1, model.encoder.input_vocab_size, (2, 23)), torch.tensor([23, 11])
    return torch.randn(2, 211, model.encoder.config.input_dim), torch.tensor([211, 97])


def export_network(model: CtcModel, path: Path) -> None:
    """Trace ``model`` (eval mode, CPU) into the ONNX file ``path`` with dynamic batch and length axes."""
    module = exportable(model.cpu().eval()).eval()
    dynamic = {"inputs": {0: "batch", 1: "length"}, "lengths": {0: "batch"},
               "log_probs": {0: "batch", 1: "out_length"}, "out_lengths": {0: "batch"}}
    with atomic_path(path) as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about the input checks, which are constant here
        torch.onnx.export(module, example_inputs(model), str(tmp), input_names=INPUT_NAMES,
                          output_names=OUTPUT_NAMES, dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 quantisation of the weights of ``src`` (MatMul/Gemm; activations stay float)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with atomic_path(dst) as tmp:
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8)


def export_model_dir(model_dir: ModelDir, components: List[str], int8: bool = False) -> Dict[str, str]:
    """Export ``components`` of ``model_dir`` to ``onnx/<component>.onnx`` (and ``.int8.onnx``), then record
    them in the manifest's ``onnx`` and ``files`` entries. Returns the new ``onnx`` entries."""
    out_dir = model_dir.path / "onnx"
    out_dir.mkdir(exist_ok=True)
    added: Dict[str, str] = {}
    for kind in components:
        if kind not in model_dir.manifest.components:
            raise ValueError(f"model directory {model_dir.path} has no {kind}; it has "
                             f"{', '.join(model_dir.manifest.components)}")
        model = stored_component(model_dir.path, model_dir.manifest.components[kind]).build("cpu")
        rel = f"onnx/{kind}.onnx"
        export_network(model, model_dir.path / rel)
        added[kind] = rel
        if int8:
            rel8 = f"onnx/{kind}.int8.onnx"
            quantize_int8(model_dir.path / rel, model_dir.path / rel8)
            added[f"{kind}.int8"] = rel8
        logger.info("exported %s to %s%s (opset %d)", kind, model_dir.path / rel, " and its int8 copy" if int8
                    else "", OPSET)
    manifest = read_manifest(model_dir.path)
    manifest.onnx.update(added)
    for rel in added.values():
        manifest.files[rel] = sha256_of(model_dir.path / rel)
    atomic_write_text(model_dir.path / MANIFEST, manifest.to_yaml())
    model_dir.manifest = manifest
    return added
