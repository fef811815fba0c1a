"""Time one JSA training step (K proposals) against one S2P-only CTC step on the same batch; print the ratios and
the steps' peak memory.

Goal: ratio <= 1.5 with K=10. The JSA step adds the G2P forward/backward, the P2G forward over the B*(K+1)
candidates, three batched CTC scorings for the sampler and the P2G/G2P losses to the S2P's forward/backward; with
``jsa.score_mode: eval`` (the default) also no-grad eval-mode forwards of S2P and G2P for the sampler's weights
(``train`` reuses the training forward pass, as the reference does; ``no_dropout`` too, training without dropout
so that this pass is the dropout-free one). Every mode is timed by default, and the code's default mode's ratio is
printed last. Models are randomly initialised at the sizes chosen (default: the paper's Whistle-S S2P and 8-layer
P2G/G2P), chains start from the previous step's states as with the persistent cache, proposals from the mixture of
``--proposal-s2p-weight``.

Peak memory is what one step adds at its peak to what was allocated before it: ``torch.cuda.max_memory_allocated``
on a GPU; on a CPU the peak resident set size (sampled every millisecond, Linux ``/proc``), after glibc has
returned freed heap memory to the system so that reused memory does not hide the step's allocations.

    python bench/bench_jsa.py                         # paper sizes, CPU or the GPU if there is one
    python bench/bench_jsa.py --s2p-preset tiny --token-preset tiny --batch 4
"""
from __future__ import annotations

import argparse
import ctypes
import math
import os
import statistics
import threading
import time
from typing import Callable, Dict, List, Tuple

import torch

from phonasr.batching.padding import pad_ids
from phonasr.ctc import ctc_loss, ctc_sample
from phonasr.jsa.likelihoods import SCORE_MODES
from phonasr.jsa.step import jsa_step
from phonasr.jsa.task import JsaSettings
from phonasr.models import build_model

Step = Callable[[], None]
MIB = 2 ** 20


def random_ids(gen: torch.Generator, n: int, length: int, vocab: int) -> List[List[int]]:
    return [torch.randint(1, vocab, (length,), generator=gen).tolist() for _ in range(n)]


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_times(steps: Dict[str, Step], repeats: int, device: torch.device
                 ) -> Tuple[Dict[str, float], Dict[str, float]]:
    """Median wall time and median CPU time (this process, all threads) of each step, run in turn after one warm-up
    call each, so that load from other processes on the machine falls on all alike. On a CPU shared with other
    work the CPU time is the steadier measure: the wall time counts the waits for a core too."""
    def run(fn: Step) -> Tuple[float, float]:
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        _synchronize(device)
        return time.perf_counter() - start, time.process_time() - cpu

    for fn in steps.values():
        run(fn)
    times: Dict[str, List[Tuple[float, float]]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            times[name].append(run(fn))
    return ({name: statistics.median(w for w, _ in t) for name, t in times.items()},
            {name: statistics.median(c for _, c in t) for name, t in times.items()})


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_above_start(fn: Step) -> int:
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # glibc
    if trim is not None:
        trim(0)
    start = peak = _rss()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss())
            done.wait(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        fn()
    finally:
        done.set()
        sampler.join()
    return max(peak, _rss()) - start


def peak_memory(fn: Step, device: torch.device) -> int:
    """Bytes that one call of ``fn`` adds, at its peak, to what was in use before it."""
    if device.type != "cuda":
        return _peak_rss_above_start(fn)
    _synchronize(device)
    start = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    _synchronize(device)
    return torch.cuda.max_memory_allocated(device) - start


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
    p.add_argument("--repeats", type=int, default=5, help="timed steps of each kind, in turn (median reported)")
    p.add_argument("--score-modes", default=",".join(SCORE_MODES),
                   help=f"comma-separated jsa.score_mode values to time (default: {','.join(SCORE_MODES)})")
    p.add_argument("--proposal-s2p-weight", type=float, default=JsaSettings.proposal_s2p_weight,
                   help="jsa.proposal_s2p_weight: share of proposals drawn from the S2P (default: the code's)")
    p.add_argument("--phones-per-second", type=float, default=10.0,
                   help="bias the random S2P's and G2P's blank so that their CTC samples hold about this many "
                        "phonemes per second of speech, as trained models' do (0: leave them random: near-uniform "
                        "posteriors then propose ~2.4x longer sequences, and the P2G scores longer candidates)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    args = p.parse_args()
    modes = args.score_modes.split(",")
    unknown = sorted(set(modes) - set(SCORE_MODES))
    if unknown:
        p.error(f"unknown score modes {unknown}; choose from {SCORE_MODES}")

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
    if args.phones_per_second > 0:
        # Raising the blank's output bias by b divides the odds of emitting a phoneme in a frame by about e^b: a few
        # rounds of b += log(odds now / odds wanted) bring each model's CTC samples to the target length.
        target = args.phones_per_second * args.seconds
        inputs = {"s2p": (features, feature_lens), "g2p": pad_ids(chars, device)}
        with torch.no_grad():
            for name in ("s2p", "g2p"):
                models[name].eval()
                for _ in range(5):
                    log_probs, lens = models[name](*inputs[name])
                    samples = ctc_sample(log_probs, lens, 10)
                    out_frames = float(lens.float().mean())
                    want = min(target / out_frames, 0.95)
                    now = min(max(statistics.mean(len(h) for utt in samples for h in utt) / out_frames, 0.01), 0.99)
                    models[name].output.bias[0] += math.log(now / (1 - now)) - math.log(want / (1 - want))
                models[name].train()
    graphemes = random_ids(gen, args.batch, int(4 * args.seconds), args.subwords)
    phones = random_ids(gen, args.batch, int(10 * args.seconds), args.phones)
    params = [q for m in models.values() for q in m.parameters()]

    def s2p_step() -> None:
        log_probs, lens = models["s2p"](features, feature_lens)
        ctc_loss(log_probs, lens, phones, backend="torch").sum().backward()
        for q in params:
            q.grad = None

    proposal_lens: List[int] = []

    def jsa(score_mode: str) -> Step:
        starts: List = [None] * args.batch

        def step() -> None:
            out = jsa_step(models, features, feature_lens, graphemes, chars, starts, [None] * args.batch,
                           num_samples=args.num_samples, ctc_backend="torch", score_mode=score_mode,
                           proposal_s2p_weight=args.proposal_s2p_weight)
            out.loss().backward()
            starts[:] = out.result.states
            proposal_lens.extend(len(h) for props in out.proposals for h in props)
            for q in params:
                q.grad = None
        return step

    steps = {"S2P-only CTC": s2p_step, **{f"JSA ({mode} scoring)": jsa(mode) for mode in modes}}
    times, cpu_times = median_times(steps, args.repeats, device)
    memory = {name: peak_memory(fn, device) for name, fn in steps.items()}
    sizes = {k: sum(q.numel() for q in m.parameters()) / 1e6 for k, m in models.items()}
    print(f"device {device}; S2P {args.s2p_preset} {sizes['s2p']:.1f}M, P2G/G2P {args.token_preset} "
          f"{sizes['p2g']:.1f}M/{sizes['g2p']:.1f}M; batch {args.batch} x {args.seconds:g} s, K={args.num_samples}; "
          f"proposals of {statistics.mean(proposal_lens or [0]):.0f} phonemes on average "
          f"(--phones-per-second {args.phones_per_second:g})")
    what = "CUDA max_memory_allocated" if device.type == "cuda" else "peak RSS"
    base_time, base_cpu, base_mem = times["S2P-only CTC"], cpu_times["S2P-only CTC"], memory["S2P-only CTC"]
    print(f"{'step':24s} {'median time':>12s} {'vs S2P':>7s} {'CPU time':>11s} {'vs S2P':>7s}   "
          f"{what + ' above start':>32s} {'vs S2P':>7s}")
    for name in steps:
        print(f"{name:24s} {times[name] * 1000:9.1f} ms {times[name] / base_time:6.2f}x "
              f"{cpu_times[name] * 1000:8.1f} ms {cpu_times[name] / base_cpu:6.2f}x   "
              f"{memory[name] / MIB:28.1f} MiB {memory[name] / max(base_mem, 1):6.2f}x")
    default = f"JSA ({JsaSettings.score_mode} scoring)"
    if default in times:
        print(f"default jsa.score_mode {JsaSettings.score_mode}: JSA step {times[default] / base_time:.2f}x the "
              f"S2P-only step in wall time, {cpu_times[default] / base_cpu:.2f}x in CPU time (goal: <= 1.5x)")
    else:
        print("goal: JSA step <= 1.5x the S2P-only step")


if __name__ == "__main__":
    main()
