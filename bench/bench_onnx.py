"""ONNX benchmark: onnxruntime vs torch on a packed model directory, measured side by side in one run.

    python bench/bench_onnx.py MODEL_DIR --cuts CUTS [--root DIR] [--max-utts 0] [--threads 1] [--int8 true]
    python bench/bench_onnx.py MODEL_DIR --cuts CUTS --s2p-preset whistle_s [--max-utts 8]

For the utterances of a lhotse cut manifest (audio paths relative to ``--root``, the recipe output root):

1. whole-system real-time factor (fbank + S2P + search + P2G, ``Recognizer.recognize``, beam decoding) of the
   torch backend, the onnxruntime backend and, with --int8 true, onnxruntime's int8 copies; one warm-up call
   each, then every utterance in batches of ``--batch`` utterances; printed with the ratio to torch (> 1 =
   faster than torch);
2. the largest absolute difference of the S2P log-posteriors (onnx vs torch, int8 vs torch) and how many
   transcripts are identical;
3. the WER/CER against the cuts' ``supervision.text`` for each backend (the int8 WER change);
4. the S2P network alone (fbank in, log-posteriors out), each backend;
5. with ``--s2p-preset whistle_s``: a randomly initialised S2P of that size is exported and only the network
   (fbank in, log-posteriors out) is timed, torch vs onnxruntime, since random weights decode nothing.

Exports go to a temporary copy of MODEL_DIR (the directory itself is left unchanged). One thread each
(``--threads``), as a decoding job of the recipes runs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from lhotse import CutSet

from phonasr.models import build_model
from phonasr.scoring.error_rate import score_texts
from phonasr.serve.model_dir import load_model_dir
from phonasr.serve.networks import OnnxNetwork, TorchNetwork, load_network
from phonasr.serve.onnx_export import export_model_dir, export_network
from phonasr.serve.recognizer import Recognizer, load_recognizer


def load_audio(cuts_path: str, root: str, max_utts: int) -> Tuple[List[str], List[np.ndarray], List[str]]:
    here = os.getcwd()
    os.chdir(root)
    try:
        cuts = list(CutSet.from_file(os.path.join(here, cuts_path) if not os.path.isabs(cuts_path) else cuts_path))
        cuts = cuts[:max_utts] if max_utts else cuts
        samples = [c.resample(16000).load_audio()[0].astype(np.float32) for c in cuts]
    finally:
        os.chdir(here)
    return [c.id for c in cuts], samples, [c.supervisions[0].text if c.supervisions else "" for c in cuts]


def timed(recognizer: Recognizer, names: Sequence[str], samples: Sequence[np.ndarray], batch: int):
    recognizer.recognize(names[:1], samples[:1])  # warm-up: first-call allocations, lazy initialisation
    start = time.perf_counter()
    out = []
    for i in range(0, len(names), batch):
        out += recognizer.recognize(names[i: i + batch], samples[i: i + batch])
    return out, time.perf_counter() - start


def time_networks(nets, feats: Sequence[np.ndarray], audio_s: float) -> Dict[str, float]:
    """Seconds per second of audio of each network alone (fbank in, log-posteriors out, one utterance per call)."""
    result = {}
    for name, net in nets:
        net(feats[0][None], np.array([len(feats[0])]))
        start = time.perf_counter()
        for f in feats:
            net(f[None], np.array([len(f)]))
        result[name] = (time.perf_counter() - start) / audio_s
    return result


def network_rtf(preset: str, vocab: int, feats: Sequence[np.ndarray], audio_s: float, tmp: Path,
                threads: int) -> Dict[str, float]:
    """The S2P network alone, randomly initialised at ``preset`` size: torch and onnxruntime."""
    torch.manual_seed(0)
    model = build_model({"type": "conformer", "preset": preset, "dropout": 0.0}, vocab).eval()
    path = tmp / f"{preset}.onnx"
    start = time.perf_counter()
    export_network(model, path)
    print(f"  {preset}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, exported in "
          f"{time.perf_counter() - start:.0f} s")
    return time_networks([("torch", TorchNetwork(model, torch.device("cpu"))),
                          ("onnx", OnnxNetwork(path, "cpu", threads))], feats, audio_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir")
    parser.add_argument("--cuts", required=True, help="lhotse cut manifest with audio (e.g. the test set's)")
    parser.add_argument("--root", default=".", help="what the manifest's audio paths are relative to")
    parser.add_argument("--max-utts", type=int, default=0, help="0: every cut")
    parser.add_argument("--batch", type=int, default=8, help="utterances per recognize() call")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--int8", default="true", choices=["true", "false"])
    parser.add_argument("--s2p-preset", default=None, help="also time a random S2P of this preset (whistle_s)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    names, samples, refs = load_audio(args.cuts, args.root, args.max_utts)
    audio_s = sum(len(s) for s in samples) / 16000
    print(f"{len(names)} utterances, {audio_s:.1f} s of audio, {args.threads} thread(s)")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "model"
        shutil.copytree(args.model_dir, copy)
        start = time.perf_counter()
        export_model_dir(load_model_dir(copy), ["s2p", "p2g"], int8=args.int8 == "true")
        print(f"export (s2p, p2g{', int8 copies' if args.int8 == 'true' else ''}): {time.perf_counter() - start:.1f} s")
        model_dir = load_model_dir(copy)
        variants = [("torch", {}), ("onnx", {"backend": "onnx"})]
        if args.int8 == "true":
            variants.append(("onnx int8", {"backend": "onnx", "int8": True}))
        results, seconds, s2p = {}, {}, {}
        for label, kw in variants:
            recognizer = load_recognizer(model_dir, num_threads=args.threads, **kw)
            results[label], seconds[label] = timed(recognizer, names, samples, args.batch)
            s2p[label] = recognizer.s2p_log_probs(recognizer.features(samples))
        print(f"\n{'backend':<10} {'RTF':>8} {'vs torch':>9} {'max|dlogp|':>11} {'same text':>10} {'WER':>7} "
              f"{'CER':>7}")
        ref_map = dict(zip(names, refs))
        for label, _ in variants:
            diff = max(float((a - b).abs().max()) for a, b in zip(s2p[label], s2p["torch"]))
            same = sum(a.text == b.text for a, b in zip(results[label], results["torch"]))
            hyps = {t.name: t.text for t in results[label]}
            wer = score_texts(ref_map, hyps, "wer").counts.rate if any(refs) else float("nan")
            cer = score_texts(ref_map, hyps, "cer").counts.rate if any(refs) else float("nan")
            rtf = seconds[label] / audio_s
            print(f"{label:<10} {rtf:8.4f} {seconds['torch'] / seconds[label]:8.2f}x {diff:11.2e} "
                  f"{same:>4}/{len(names):<5} {wer:7.2f} {cer:7.2f}")
        feats = load_recognizer(model_dir).features(samples)
        nets = [(label, load_network(model_dir, "s2p", num_threads=args.threads, **kw).run) for label, kw in variants]
        rtf = time_networks(nets, feats, audio_s)
        print("\nS2P network only (this model, one utterance per call): " + ", ".join(
            f"{label} RTF {value:.4f} ({rtf['torch'] / value:.2f}x torch)" for label, value in rtf.items()))
        if args.s2p_preset:
            print(f"\nS2P network only, random {args.s2p_preset} weights (one utterance per call):")
            vocab = load_network(model_dir, "s2p").outputs.vocab_size
            rtf = network_rtf(args.s2p_preset, vocab, feats, audio_s, Path(tmp), args.threads)
            print(f"  torch RTF {rtf['torch']:.4f}, onnxruntime RTF {rtf['onnx']:.4f}, onnxruntime "
                  f"{rtf['torch'] / rtf['onnx']:.2f}x torch's speed")


if __name__ == "__main__":
    main()
