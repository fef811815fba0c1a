"""Time the machine ABX test on a test set (each condition alone, and all four together, which share their DTW
distances), and the batched torch DTW against the tests' pure-Python DTW on the same item pairs, side by side.

    python bench/bench_abx.py FRAME_LABELS CUTS FEATURES [--max-triples 100] [--pairs 5000] [--device auto]

FEATURES is one ``features`` file (one encoder layer); the Python DTW is ``reference_dtw`` of
tests/units/test_abx.py, loaded from there so that there is one reference, and the two must agree on every pair.
"""
from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path
from typing import Callable, Tuple

import torch

from phonasr.units.abx import CONDITIONS, abx, cut_speakers, item_frames, triphone_items
from phonasr.units.dtw import pair_distances
from phonasr.units.store import check_aligned, load_arrays
from phonasr.utils.device import choose_device

TESTS = Path(__file__).resolve().parents[1] / "tests" / "units" / "test_abx.py"


def reference_dtw() -> Callable:
    spec = importlib.util.spec_from_file_location("test_abx", TESTS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reference_dtw


def timed(fn: Callable[[], object]) -> Tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("frame_labels")
    parser.add_argument("cuts")
    parser.add_argument("features")
    parser.add_argument("--max-triples", type=int, default=100)
    parser.add_argument("--distance", default="angular")
    parser.add_argument("--pairs", type=int, default=5000, help="item pairs of the torch vs Python DTW comparison")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    device = choose_device(args.device)

    labels, _ = load_arrays(args.frame_labels, "frame_labels")
    features, _ = load_arrays(args.features, "features")
    check_aligned(features, labels, f"{args.features} vs {args.frame_labels}")
    items = triphone_items(labels, cut_speakers(args.cuts))
    print(f"{len(items)} items, {len(labels)} cuts, device {device}, at most {args.max_triples} triples per cell, "
          f"{torch.get_num_threads()} threads")
    print(f"{'condition':<24} {'seconds':>8} {'triples':>9} {'error %':>8}")
    alone = 0.0
    for condition in CONDITIONS:
        seconds, results = timed(lambda c=condition: abx(features, items, [c], distance=args.distance,
                                                          max_triples=args.max_triples, seed=args.seed, device=device))
        r = results[0]
        alone += seconds
        print(f"{r.context + '-ctx ' + r.speaker + '-spk':<24} {seconds:8.2f} {r.triples:9d} {100 * r.error:8.2f}")
    seconds, _ = timed(lambda: abx(features, items, distance=args.distance, max_triples=args.max_triples,
                                   seed=args.seed, device=device))
    print(f"{'all four (shared DTW)':<24} {seconds:8.2f}   (each alone: {alone:.2f} s in all)")

    frames, spans = item_frames(features, items, device)
    gen = torch.Generator().manual_seed(args.seed)
    pairs = torch.randint(len(items), (args.pairs, 2), generator=gen)
    fast_s, fast = timed(lambda: pair_distances(frames, spans, pairs, args.distance))
    reference = reference_dtw()
    cpu_frames = frames.cpu().double()

    def python_pairs():
        rows = []
        for i, j in pairs.tolist():
            (si, ni), (sj, nj) = spans[i].tolist(), spans[j].tolist()
            rows.append(reference(cpu_frames[si:si + ni].tolist(), cpu_frames[sj:sj + nj].tolist(), args.distance))
        return torch.tensor(rows, dtype=torch.float64)

    slow_s, slow = timed(python_pairs)
    diff = float((fast - slow).abs().max())
    print(f"DTW of {args.pairs} item pairs: torch {fast_s:.3f} s, pure Python {slow_s:.3f} s, "
          f"ratio {slow_s / fast_s:.0f}x (largest difference {diff:.1e})")


if __name__ == "__main__":
    main()
