"""Time one JSA training step (K proposals) against one S2P-only CTC step on the same batch, and print the ratio.

Goal: ratio <= 1.5 with K=10. The JSA step adds the G2P forward/backward, the P2G forward over the B*(K+1)
candidates, three batched CTC scorings for the sampler and the P2G/G2P losses to the S2P's forward/backward.
Models are randomly initialised at the sizes chosen (default: the paper's Whistle-S S2P and 8-layer P2G/G2P),
chains start from the previous step's states as with the persistent cache.

    python bench/bench_jsa.py                         # paper sizes, CPU or the GPU if there is one
    python bench/bench_jsa.py --s2p-preset tiny --token-preset tiny --batch 4
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, List, Tuple

import torch

from phonasr.ctc import ctc_loss
from phonasr.jsa.step import jsa_step
from phonasr.models import build_model


def random_ids(gen: torch.Generator, n: int, length: int, vocab: int) -> List[List[int]]:
    return [torch.randint(1, vocab, (length,), generator=gen).tolist() for _ in range(n)]


def timed_pair(first: Callable[[], None], second: Callable[[], None], repeats: int,
               device: torch.device) -> Tuple[float, float]:
    """Median wall times of ``first`` and ``second``, run alternately after one warm-up call each, so that
    load from other processes on the machine falls on both alike."""
    def run(fn: Callable[[], None]) -> float:
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    run(first)
    run(second)
    times: Tuple[List[float], List[float]] = ([], [])
    for _ in range(repeats):
        times[0].append(run(first))
        times[1].append(run(second))
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--s2p-preset", default="whistle_s", help="conformer preset of the S2P (default: whistle_s)")
    p.add_argument("--token-preset", default="spg", help="transformer preset of P2G and G2P (default: spg)")
    p.add_argument("--batch", type=int, default=8, help="utterances per batch")
    p.add_argument("--seconds", type=float, default=5.0, help="duration of each utterance (100 frames/s)")
    p.add_argument("--num-samples", type=int, default=10, help="K proposals per utterance")
    p.add_argument("--phones", type=int, default=40, help="phoneme vocabulary (with blank)")
    p.add_argument("--subwords", type=int, default=500, help="BPE vocabulary (with blank)")
    p.add_argument("--chars", type=int, default=35, help="character vocabulary (with blank)")
    p.add_argument("--repeats", type=int, default=5, help="timed steps of each kind, alternating (median reported)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    args = p.parse_args()

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    models = {
        "s2p": build_model({"type": "conformer", "preset": args.s2p_preset}, args.phones),
        "p2g": build_model({"type": "transformer", "preset": args.token_preset}, args.subwords, args.phones),
        "g2p": build_model({"type": "transformer", "preset": args.token_preset}, args.phones, args.chars),
    }
    for m in models.values():
        m.to(device).train()
    frames = int(args.seconds * 100)
    features = torch.randn(args.batch, frames, 80, generator=gen).to(device)
    feature_lens = torch.full((args.batch,), frames, dtype=torch.long, device=device)
    # a 5 s sentence: ~60 characters, ~50 phonemes, ~20 subwords
    chars = random_ids(gen, args.batch, int(12 * args.seconds), args.chars)
    graphemes = random_ids(gen, args.batch, int(4 * args.seconds), args.subwords)
    phones = random_ids(gen, args.batch, int(10 * args.seconds), args.phones)
    params = [q for m in models.values() for q in m.parameters()]

    def s2p_step() -> None:
        log_probs, lens = models["s2p"](features, feature_lens)
        ctc_loss(log_probs, lens, phones, backend="torch").sum().backward()
        for q in params:
            q.grad = None

    starts: List = [None] * args.batch

    def jsa() -> None:
        out = jsa_step(models, features, feature_lens, graphemes, chars, starts, [None] * args.batch,
                       num_samples=args.num_samples, ctc_backend="torch")
        out.loss().backward()
        starts[:] = out.result.states
        for q in params:
            q.grad = None

    t_s2p, t_jsa = timed_pair(s2p_step, jsa, args.repeats, device)
    sizes = {k: sum(q.numel() for q in m.parameters()) / 1e6 for k, m in models.items()}
    print(f"device {device}; S2P {args.s2p_preset} {sizes['s2p']:.1f}M, P2G/G2P {args.token_preset} "
          f"{sizes['p2g']:.1f}M/{sizes['g2p']:.1f}M; batch {args.batch} x {args.seconds:g} s, K={args.num_samples}")
    print(f"S2P-only CTC step: {t_s2p * 1000:.1f} ms")
    print(f"JSA step:          {t_jsa * 1000:.1f} ms")
    print(f"ratio JSA / S2P:   {t_jsa / t_s2p:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
