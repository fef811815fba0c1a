"""Unit extraction speed against the encoder forward alone, measured side by side on the same in-memory batches:
audio seconds per compute second for both and their ratio.

Extraction is what ``make_units assign`` does per batch: :func:`phonasr.units.layers.encoder_layers` (one forward
pass of the whole model with a hook on the layer) and the nearest-centroid assignment of the valid frames. The
reference is ``model.encoder`` alone. Reading features from disk is left out of both (the batches are loaded
first), and the two are interleaved over the repeats so that background load hits both alike; the best repeat
counts.

    python bench/bench_units.py exp/s2p_ft_phone/final.pt exp/units/kmeans.pt data/fbank/pl/cuts_test.jsonl.gz
"""
from __future__ import annotations

import argparse
import time
from typing import Callable, List, Tuple

import torch
from lhotse import CutSet

from phonasr.batching.cuts import CutFeatures
from phonasr.decode.ctc import batches, load_acoustic_model, load_batch
from phonasr.units.kmeans import assign, load_kmeans
from phonasr.units.layers import encoder_layers, num_layers
from phonasr.utils.device import choose_device

Batch = Tuple[torch.Tensor, torch.Tensor]


def timed(fn: Callable[[], None], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="the S2P checkpoint the k-means was fitted on")
    parser.add_argument("kmeans", help="k-means file of make_units fit (its layer is extracted)")
    parser.add_argument("cuts", help="cut manifest with features")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-frames", type=int, default=40000, help="padded input frames per batch")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto")
    args = parser.parse_args()
    device = choose_device(args.device)
    model = load_acoustic_model(args.checkpoint, None, None, device).model.eval()
    km = load_kmeans(args.kmeans)
    layer, centroids = int(km.meta["layer"]), km.centroids.to(device)
    cuts = list(CutSet.from_file(args.cuts))
    features = CutFeatures(None)
    loaded: List[Batch] = [tuple(t.to(device) for t in load_batch(b, model.encoder.config.input_dim, features))
                           for b in batches(cuts, args.max_frames)]
    audio = sum(c.duration for c in cuts)

    @torch.no_grad()
    def encoder() -> None:
        for feats, lengths in loaded:
            model.encoder(feats, lengths)

    def extraction() -> None:
        for feats, lengths in loaded:
            hidden, out_lens = encoder_layers(model, feats, lengths, [layer])
            mask = torch.arange(hidden[layer].size(1), device=device)[None, :] < out_lens[:, None]
            assign(hidden[layer][mask], centroids)

    encoder()  # warm-up: allocator, kernels
    extraction()
    best = {"encoder": float("inf"), "extraction": float("inf")}
    for _ in range(args.repeats):
        best["encoder"] = min(best["encoder"], timed(encoder, device))
        best["extraction"] = min(best["extraction"], timed(extraction, device))
    speed = {name: audio / seconds for name, seconds in best.items()}
    print(f"{len(cuts)} cuts, {audio:.1f} s of audio in {len(loaded)} batches on {device} "
          f"({torch.get_num_threads()} threads); layer {layer} of {num_layers(model)}, k={km.k}; "
          f"best of {args.repeats}")
    for name, seconds in best.items():
        print(f"{name}\t{seconds:.3f} s\t{speed[name]:.1f} audio s per compute s")
    print(f"extraction / encoder speed: {speed['extraction'] / speed['encoder']:.3f} "
          f"(extraction takes {best['extraction'] / best['encoder']:.2f}x the encoder's time)")


if __name__ == "__main__":
    main()
