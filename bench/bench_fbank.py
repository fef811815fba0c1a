"""Fbank benchmark: backend throughput relative to kaldi-native-fbank, and peak memory when streaming 10k cuts.

    python bench/bench_fbank.py [--num-cuts 200] [--memory-cuts 10000] [--backend-for-memory auto]

1. Throughput: every importable backend computes features for the same cuts (real espeak-ng speech, samples
   loaded beforehand so only the extractor is timed); printed as seconds, times real time and the ratio to
   kaldi-native-fbank (> 1 = faster). One torch thread and batches of ~20 s of audio, as a CPU job of
   make_fbank.sh runs (kaldi-native-fbank is single-threaded, so this compares like with like).
2. Memory: a lazy manifest of ``--memory-cuts`` cuts pointing at a few real wavs is streamed through
   ``compute_and_store`` (features to a lilcom file) in a fresh process; the peak RSS of that process
   (``resource.getrusage``) is printed next to its RSS before streaming, so any growth with the number of cuts
   would show.
"""
from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
from lhotse import CutSet, MonoCut, Recording, SupervisionSegment

from phonasr.features import available_backends, compute_and_store, create_backend, load_samples, resolve_backend

SENTENCES = [("pl", "dzień dobry wszystkim, jak się macie dzisiaj"), ("pl", "w czwartek pójdziemy razem do kina"),
             ("id", "selamat pagi semua, apa kabar hari ini"), ("id", "saya suka makan nasi goreng pedas")]


def make_wavs(out_dir: Path) -> List[Path]:
    """Real speech for the benchmark: espeak-ng sentences as 16 kHz mono WAV (sox)."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        raise SystemExit("espeak-ng and sox are needed; run utils/install.sh")
    wavs = []
    for i, (lang, text) in enumerate(SENTENCES):
        raw, wav = out_dir / f"{i}.22k.wav", out_dir / f"{i}.wav"
        subprocess.run(["espeak-ng", "-v", lang, "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)], check=True)
        wavs.append(wav)
    return wavs


def write_manifest(wavs: List[Path], num_cuts: int, cut_duration: float, path: Path) -> None:
    """A lazily written manifest of ``num_cuts`` cuts, each a ``cut_duration`` slice of one of ``wavs``."""
    recordings = [Recording.from_file(w) for w in wavs]
    with CutSet.open_writer(path) as writer:
        for i in range(num_cuts):
            rec = recordings[i % len(recordings)]
            start = round((i // len(recordings)) % 5 * 0.05, 2)
            duration = min(cut_duration, rec.duration - start)
            cut_id = f"bench-{i:06d}"
            sup = SupervisionSegment(id=cut_id, recording_id=rec.id, start=0.0, duration=duration, text="x")
            writer.write(MonoCut(id=cut_id, start=start, duration=duration, channel=0, recording=rec,
                                 supervisions=[sup]))


def time_backend(name: str, waves: List[np.ndarray], batch_seconds: float = 20.0) -> float:
    backend = create_backend(name, device="cpu")
    backend.compute(waves[:2])  # warm-up: first-call allocations and lazy imports are not throughput
    batches, current, current_len = [], [], 0
    for w in waves:
        current.append(w)
        current_len += len(w)
        if current_len >= batch_seconds * 16000:
            batches.append(current)
            current, current_len = [], 0
    if current:
        batches.append(current)
    start = time.perf_counter()
    for batch in batches:
        backend.compute(batch)
    return time.perf_counter() - start


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _stream_manifest(manifest: str, work: str, backend_name: str, queue) -> None:
    """In a fresh process: RSS before streaming, then peak RSS after extracting every cut of the manifest."""
    torch.set_num_threads(1)
    backend = create_backend(backend_name, device="cpu")
    before = _current_rss_mb()
    start = time.perf_counter()
    counts = compute_and_store(CutSet.from_jsonl_lazy(manifest), backend, Path(work) / "feats.lca",
                               Path(work) / "cuts.jsonl.gz", Path(work) / "rejects.tsv")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    queue.put((before, peak, counts.kept, counts.rejected, counts.seconds, time.perf_counter() - start))


def measure_memory(manifest: Path, work: Path, backend_name: str) -> Tuple[float, float, int, int, float, float]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_stream_manifest, args=(str(manifest), str(work), backend_name, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-cuts", type=int, default=200, help="cuts for the throughput comparison")
    parser.add_argument("--memory-cuts", type=int, default=10000, help="cuts streamed for the memory measurement")
    parser.add_argument("--cut-duration", type=float, default=1.0, help="seconds per cut in the memory manifest")
    parser.add_argument("--backend-for-memory", default="auto")
    args = parser.parse_args()
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory(prefix="bench_fbank.") as tmp:
        tmp_path = Path(tmp)
        wavs = make_wavs(tmp_path)
        speech = [Recording.from_file(w) for w in wavs]
        cuts = [MonoCut(id=f"t{i}", start=0.0, duration=speech[i % len(speech)].duration, channel=0,
                        recording=speech[i % len(speech)]) for i in range(args.num_cuts)]
        waves = [load_samples(c, 16000) for c in cuts]
        audio_seconds = sum(len(w) for w in waves) / 16000

        print(f"throughput: {args.num_cuts} cuts, {audio_seconds:.0f} s of speech, CPU, one thread")
        times: Dict[str, float] = {name: time_backend(name, waves) for name in available_backends()}
        reference = times["kaldi-native-fbank"]
        print(f"{'backend':<20}{'seconds':>10}{'x real time':>14}{'vs kaldi-native-fbank':>24}")
        for name, seconds in times.items():
            print(f"{name:<20}{seconds:>10.3f}{audio_seconds / seconds:>14.0f}{reference / seconds:>23.2f}x")

        manifest = tmp_path / "cuts_bench.jsonl.gz"
        write_manifest(wavs, args.memory_cuts, args.cut_duration, manifest)
        work = tmp_path / "work"
        work.mkdir()
        before, peak, kept, rejected, seconds, elapsed = measure_memory(manifest, work, args.backend_for_memory)
        print(f"memory: streamed {kept + rejected} cuts ({kept} kept, {rejected} rejected, {seconds:.0f} s of audio) "
              f"with a lazy manifest in {elapsed:.1f} s using {resolve_backend(args.backend_for_memory)}")
        print(f"        RSS before streaming {before:.0f} MiB, peak RSS {peak:.0f} MiB "
              f"(growth {peak - before:.0f} MiB)")


if __name__ == "__main__":
    main()
