"""CTC benchmark: loss backends in a training step, decoding cost relative to the encoder, peak memory.

    python bench/bench_ctc.py [--preset tiny] [--batch-sizes 4,8,16] [--seconds 5] [--beam 16] [--device auto]

For every batch size (utterances of ``--seconds`` of 100 Hz 80-dim features, random; targets of one label per
~8 output frames, a phoneme rate):
1. training step (forward + CTC loss + backward + Adam step) with the torch loss and, when k2 is importable
   (the .venv-k2 environment), with the k2 loss: seconds and the k2/torch ratio;
2. decoding: the encoder forward alone, then greedy and prefix beam search on its output: seconds and the
   search/encoder ratio (goal for beam search: <= 2);
3. peak memory of the torch training step: torch.cuda.max_memory_allocated on a GPU; on the CPU the process's
   peak RSS (ru_maxrss), which only grows, so batch sizes run smallest first.
A randomly initialised model has flat posteriors; ``--sharpen S`` multiplies its log-posteriors by S and
renormalises, to mimic the peaky output of a trained CTC model (fewer labels per frame, shorter prefixes).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from typing import Callable, Dict, List

import torch

from phonasr.ctc import ctc_loss, greedy_search, k2_available, prefix_beam_search
from phonasr.models import build_model, subsampled_lengths


def timed(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def bench_batch(model: torch.nn.Module, batch: int, args: argparse.Namespace, device: torch.device) -> Dict:
    gen = torch.Generator().manual_seed(batch)
    frames = int(args.seconds * 100)
    feats = torch.randn(batch, frames, 80, generator=gen).to(device)
    # lengths between 70% and 100% of the longest, as in a bucketed batch
    lengths = (frames * (0.7 + 0.3 * torch.rand(batch, generator=gen))).long().clamp(max=frames)
    lengths[0] = frames
    lengths = lengths.to(device)
    out_frames = subsampled_lengths(lengths)
    targets = [torch.randint(1, args.vocab, (max(1, int(n) // 8),), generator=gen).tolist() for n in out_frames]
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def train_step(backend: str) -> None:
        model.train()
        log_probs, out_lens = model(feats, lengths)
        loss = ctc_loss(log_probs, out_lens, targets, backend=backend).sum() / sum(len(t) for t in targets)
        opt.zero_grad()
        loss.backward()
        opt.step()

    row: Dict = {"batch": batch}
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    row["train_torch_s"] = timed(lambda: train_step("torch"), device, args.repeats)
    row["peak_mem_mb"] = peak_memory_mb(device)
    if k2_available():
        row["train_k2_s"] = timed(lambda: train_step("k2"), device, args.repeats)
        row["k2_over_torch"] = row["train_k2_s"] / row["train_torch_s"]

    model.eval()
    with torch.no_grad():
        log_probs, out_lens = model(feats, lengths)
        if args.sharpen != 1.0:
            log_probs = (log_probs * args.sharpen).log_softmax(-1)

        def encode() -> None:
            model(feats, lengths)

        row["encoder_s"] = timed(encode, device, args.repeats)
        row["greedy_s"] = timed(lambda: greedy_search(log_probs, out_lens), device, args.repeats)
        row["beam_s"] = timed(lambda: prefix_beam_search(log_probs, out_lens, beam=args.beam, nbest=args.nbest),
                              device, args.repeats)
    row["beam_over_encoder"] = row["beam_s"] / row["encoder_s"]
    row["greedy_over_encoder"] = row["greedy_s"] / row["encoder_s"]
    return row


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="tiny", help="conformer preset (tiny, whistle_s)")
    parser.add_argument("--vocab", type=int, default=100, help="output symbols incl. blank (phonemes ~100)")
    parser.add_argument("--batch-sizes", default="4,8,16", help="comma-separated, smallest first")
    parser.add_argument("--seconds", type=float, default=5.0, help="longest utterance of a batch")
    parser.add_argument("--beam", type=int, default=16)
    parser.add_argument("--nbest", type=int, default=1)
    parser.add_argument("--sharpen", type=float, default=1.0, help="log-posterior scale before decoding")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    torch.manual_seed(0)
    model = build_model({"type": "conformer", "preset": args.preset}, args.vocab).to(device)
    params = sum(p.numel() for p in model.parameters())
    print(f"# conformer '{args.preset}' ({params / 1e6:.1f}M params), vocab {args.vocab}, {args.seconds:g} s "
          f"utterances, beam {args.beam}, device {device}, torch {torch.__version__}, threads "
          f"{torch.get_num_threads()}, k2 {'yes' if k2_available() else 'no'}, sharpen {args.sharpen:g}")
    rows = [bench_batch(model, int(b), args, device) for b in args.batch_sizes.split(",")]
    columns = ["batch", "train_torch_s", "train_k2_s", "k2_over_torch", "encoder_s", "greedy_s", "beam_s",
               "greedy_over_encoder", "beam_over_encoder", "peak_mem_mb"]
    columns = [c for c in columns if any(c in r for r in rows)]
    print("\t".join(columns))
    for r in rows:
        print("\t".join(f"{r[c]:.3f}" if isinstance(r.get(c), float) else str(r.get(c, "-")) for c in columns))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"args": vars(args), "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1:])
