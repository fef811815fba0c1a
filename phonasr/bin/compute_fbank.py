"""Fbank worker for steps/make_fbank.sh: ``compute`` one piece of a cut manifest, ``combine`` the pieces.

compute:  python -m phonasr.bin.compute_fbank compute [--backend auto] [--speed-perturb true] IN.jsonl.gz PREFIX ...
          for each pair writes PREFIX.jsonl.gz (cuts with features), PREFIX.lca (lilcom features),
          PREFIX.rejects.tsv and, last, PREFIX.config.yaml / PREFIX.versions.json; skips a finished piece.
combine:  python -m phonasr.bin.compute_fbank combine --group M R DIR/NAME PREFIX1,PREFIX2,... [--group ...]
          concatenates each group's pieces into M (rejects into R), checks they were computed with the same
          settings and that in = kept + rejected, and records settings + counts in DIR/NAME.config.yaml.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, Dict, List

import torch
from lhotse import CutSet

from phonasr.features import (
    BACKENDS,
    ExtractionCounts,
    FbankBackend,
    FbankConfig,
    combine_pieces,
    compute_and_store,
    create_backend,
    speed_perturbed,
)
from phonasr.utils.cli import str2bool
from phonasr.utils.config import load_config
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.compute_fbank")

SPEED_FACTORS = (0.9, 1.1)
STORAGE_TYPE = "lilcom_chunky"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    compute = sub.add_parser("compute", help="extract fbank for one manifest piece")
    compute.add_argument("pieces", nargs="+", metavar="CUTS PREFIX",
                         help="pairs: an input lhotse cut manifest (.jsonl.gz, read lazily) and its output prefix "
                              "(PREFIX.jsonl.gz, PREFIX.lca, PREFIX.rejects.tsv); one job can do several manifests, "
                              "which saves a process start (torch import) per manifest")
    compute.add_argument("--backend", default="auto", choices=("auto",) + BACKENDS,
                         help="auto = kaldifeat when importable, else kaldi-native-fbank")
    compute.add_argument("--device", default="auto", help="kaldifeat device: auto (cuda when present), cpu, cuda:N")
    compute.add_argument("--speed-perturb", type=str2bool, default=False,
                         help=f"true: add speed-perturbed copies {SPEED_FACTORS} of every cut (training sets)")
    compute.add_argument("--batch-duration", type=float, default=None,
                         help="seconds of audio per backend call (kaldifeat batches them); default: 200 on a GPU, "
                              "20 on the CPU, where large batches are slower")

    combine = sub.add_parser("combine", help="concatenate the pieces into one manifest")
    combine.add_argument("--group", nargs=4, action="append", required=True,
                         metavar=("OUT_MANIFEST", "OUT_REJECTS", "RUN_INFO", "PREFIXES"),
                         help="one combined manifest: its path, its rejects file, DIR/NAME for the settings and counts "
                              "(DIR/NAME.config.yaml), and the comma-separated PREFIX of every piece in order; "
                              "repeat for several manifests")
    return parser


def piece_settings(args: argparse.Namespace, backend_name: str, config: FbankConfig) -> Dict[str, Any]:
    """What must be identical across pieces of one manifest (the combine step checks it)."""
    return {"backend": backend_name, "speed_perturb": list(SPEED_FACTORS) if args.speed_perturb else [],
            "storage_type": STORAGE_TYPE, "fbank": config.to_dict()}


def run_compute(args: argparse.Namespace) -> None:
    if len(args.pieces) % 2:
        raise SystemExit(f"compute: expected CUTS PREFIX pairs, got {len(args.pieces)} arguments: {args.pieces}")
    # One job = one CPU thread, as in Kaldi: parallelism comes from --nj, and torch's own threads would
    # oversubscribe the cores (kaldifeat runs several times slower then).
    torch.set_num_threads(1)
    config = FbankConfig()
    backend = create_backend(args.backend, config, device=args.device)
    for cuts_path, prefix in zip(args.pieces[::2], args.pieces[1::2]):
        compute_piece(args, backend, config, cuts_path, Path(prefix))


def compute_piece(args: argparse.Namespace, backend: FbankBackend, config: FbankConfig, cuts_path: str,
                  prefix: Path) -> None:
    manifest = prefix.with_name(prefix.name + ".jsonl.gz")
    record = prefix.with_name(prefix.name + ".config.yaml")  # written last: its presence means the piece is done
    if record.is_file() and manifest.is_file():
        logger.info("%s exists: piece already done, skipping", manifest)
        return
    batch_duration = args.batch_duration or (200.0 if backend.device.type == "cuda" else 20.0)
    logger.info("fbank %s -> %s with %s (%s)", cuts_path, manifest, backend.name, backend.device)
    cuts = CutSet.from_jsonl_lazy(cuts_path)
    stream = speed_perturbed(cuts, SPEED_FACTORS if args.speed_perturb else ())
    counts = compute_and_store(stream, backend, storage_path=prefix.with_name(prefix.name + ".lca"),
                               manifest_path=manifest, rejects_path=prefix.with_name(prefix.name + ".rejects.tsv"),
                               batch_duration=batch_duration)
    settings = piece_settings(args, backend.name, config)
    settings["input"] = str(cuts_path)
    settings["counts"] = vars(counts)
    write_run_info(prefix.parent, prefix.name, settings)
    logger.info("piece %s: %s", prefix.name, counts.summary())


def run_combine(args: argparse.Namespace) -> None:
    for out_manifest, out_rejects, run_info, prefixes in args.group:
        combine_group(out_manifest, out_rejects, run_info, [Path(p) for p in prefixes.split(",")])


def combine_group(out_manifest: str, out_rejects: str, run_info: str, prefixes: List[Path]) -> None:
    manifests = [p.with_name(p.name + ".jsonl.gz") for p in prefixes]
    missing = [str(p) for p in prefixes if not p.with_name(p.name + ".config.yaml").is_file()]
    if missing:
        raise SystemExit(f"combine: pieces not finished: {', '.join(missing)}; rerun the compute jobs (see their logs)")
    piece_infos = [load_config(p.with_name(p.name + ".config.yaml")) for p in prefixes]
    settings = _common_settings(prefixes, piece_infos)
    expected = ExtractionCounts()
    for info in piece_infos:
        expected.add(ExtractionCounts(**info["counts"]))
    counts = combine_pieces(manifests, [p.with_name(p.name + ".rejects.tsv") for p in prefixes],
                            out_manifest, out_rejects)
    if (counts.kept, counts.rejected) != (expected.kept, expected.rejected):
        raise SystemExit(f"combine: pieces hold {counts.kept} kept + {counts.rejected} rejected cuts but their jobs "
                         f"reported {expected.kept} + {expected.rejected}; delete the pieces and recompute")
    settings["counts"] = vars(counts)
    run_dir, run_name = Path(run_info).parent, Path(run_info).name
    write_run_info(run_dir, run_name, settings)
    logger.info("%s: %s", out_manifest, counts.summary())
    if counts.rejected:
        logger.warning("%d cuts rejected, listed in %s", counts.rejected, out_rejects)


def _common_settings(prefixes: List[Path], infos: List[Dict[str, Any]]) -> Dict[str, Any]:
    def strip(info: Dict[str, Any]) -> Dict[str, Any]:
        return {k: v for k, v in info.items() if k not in ("input", "counts")}

    first = strip(infos[0])
    for prefix, info in zip(prefixes[1:], infos[1:]):
        if strip(info) != first:
            raise SystemExit(f"combine: piece {prefix} was computed with different settings than {prefixes[0]} "
                             f"({strip(info)} vs {first}); delete the pieces and recompute with one backend")
    return first


def main(argv: List[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    setup_logging()
    if args.command == "compute":
        run_compute(args)
    else:
        run_combine(args)


if __name__ == "__main__":
    main(sys.argv[1:])
