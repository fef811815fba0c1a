"""The networks of a model directory behind one call, ``net(inputs, lengths) -> (log_probs, out_lengths)``,
run by torch or by onnxruntime (``--backend onnx``: no torch in the network part, only in the search).

Inputs are numpy arrays: fbank ``(B, T, F)`` float32 for the S2P, token ids ``(B, L)`` int64 for the P2G and
G2P, lengths ``(B,)`` int64; outputs are torch tensors, what the CTC searches read.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import torch

from phonasr.models.stored import StoredModel, load_stored_model
from phonasr.serve.model_dir import Component, ModelDir, ModelDirError
from phonasr.tokenizers import Tokenizer
from phonasr.utils.device import choose_device

BACKENDS = ("torch", "onnx")
Output = Tuple[torch.Tensor, torch.Tensor]


def stored_component(model_dir: Path, component: Component) -> StoredModel:
    """The stored network of a (verified) model directory, its lang dirs resolved inside the directory."""
    stored = load_stored_model(model_dir / component.weights, component.name)
    spec = dataclasses.replace(stored.spec, output_dir=str(model_dir / component.outputs),
                               input_dir=str(model_dir / component.inputs) if component.inputs else None)
    return dataclasses.replace(stored, spec=spec)


class TorchNetwork:
    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        self.model, self.device = model, device

    def __call__(self, inputs: np.ndarray, lengths: np.ndarray) -> Output:
        with torch.no_grad():
            log_probs, out_lens = self.model(torch.from_numpy(inputs).to(self.device),
                                             torch.from_numpy(lengths).to(self.device))
        return log_probs.cpu(), out_lens.cpu()


class OnnxNetwork:
    """An onnxruntime session of an exported network (inputs ``inputs``/``lengths``, see onnx_export)."""

    def __init__(self, path: Path, device: str, num_threads: int) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelDirError("--backend onnx needs onnxruntime; run utils/install.sh (requirements/base.txt)") \
                from None
        options = ort.SessionOptions()
        if num_threads > 0:
            options.intra_op_num_threads = num_threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ModelDirError("--device cuda with --backend onnx needs onnxruntime-gpu; use --device cpu")
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(str(path), options, providers=providers)

    def __call__(self, inputs: np.ndarray, lengths: np.ndarray) -> Output:
        log_probs, out_lens = self.session.run(None, {"inputs": inputs, "lengths": lengths.astype(np.int64)})
        return torch.from_numpy(log_probs), torch.from_numpy(out_lens)


@dataclasses.dataclass
class Network:
    """A runnable network with its tokenizers (``inputs`` None for the S2P, which reads fbank)."""

    run: object
    outputs: Tokenizer
    inputs: Optional[Tokenizer]
    upsample: int = 1          # token models: input positions per input token
    min_frames: int = 1        # S2P: the front end's minimum number of input frames
    input_dim: int = 0         # S2P: feature dimension


def load_network(model_dir: ModelDir, kind: str, backend: str = "torch", device: str = "cpu",
                 num_threads: int = 0, int8: bool = False) -> Network:
    """Component ``kind`` (s2p, p2g, g2p) of ``model_dir`` on ``backend``; tokenizers checked against it."""
    if kind not in model_dir.manifest.components:
        raise ModelDirError(f"model directory {model_dir.path} has no {kind}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    stored = stored_component(model_dir.path, model_dir.manifest.components[kind])
    outputs = stored.tokenizer("output", stored.lang_dir("output"))
    inputs = stored.tokenizer("input", stored.lang_dir("input")) if stored.spec.input_dir else None
    model = stored.build("cpu")
    encoder_cfg = model.encoder.config
    if backend == "torch":
        run: object = TorchNetwork(model.to(choose_device(device)), choose_device(device))
    else:
        run = OnnxNetwork(model_dir.onnx_file(kind, int8), device, num_threads)
    if inputs is None:
        from phonasr.models.conformer import Conv2dSubsampling

        return Network(run, outputs, None, min_frames=Conv2dSubsampling.MIN_FRAMES, input_dim=encoder_cfg.input_dim)
    return Network(run, outputs, inputs, upsample=encoder_cfg.upsample)
