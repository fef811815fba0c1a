"""Fbank worker for steps/make_fbank.sh: ``compute`` one piece of a cut manifest, ``combine`` the pieces.

compute:  python -m phonasr.bin.compute_fbank compute [--backend auto] [--speed-perturb true] IN.jsonl.gz PREFIX
          writes PREFIX.jsonl.gz (cuts with features), PREFIX.lca (lilcom features), PREFIX.rejects.tsv and,
          last, PREFIX.config.yaml / PREFIX.versions.json; does nothing when those exist (resumable).
combine:  python -m phonasr.bin.compute_fbank combine --out-manifest M --out-rejects R --run-info DIR/NAME PREFIX...
          concatenates the pieces, checks they were computed with the same settings and that
          in = kept + rejected, and records settings + counts in DIR/NAME.config.yaml.
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
    FbankConfig,
    combine_pieces,
    compute_and_store,
    create_backend,
    speed_perturbed,
)
from phonasr.utils.config import load_config
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.compute_fbank")

SPEED_FACTORS = (0.9, 1.1)
STORAGE_TYPE = "lilcom_chunky"


def _bool(value: str) -> bool:
    if value not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got '{value}'")
    return value == "true"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    compute = sub.add_parser("compute", help="extract fbank for one manifest piece")
    compute.add_argument("cuts", help="input lhotse cut manifest (.jsonl.gz), read lazily")
    compute.add_argument("prefix", help="output prefix: PREFIX.jsonl.gz, PREFIX.lca, PREFIX.rejects.tsv")
    compute.add_argument("--backend", default="auto", choices=("auto",) + BACKENDS,
                         help="auto = kaldifeat when importable, else kaldi-native-fbank")
    compute.add_argument("--device", default="auto", help="kaldifeat device: auto (cuda when present), cpu, cuda:N")
    compute.add_argument("--speed-perturb", type=_bool, default=False,
                         help=f"true: add speed-perturbed copies {SPEED_FACTORS} of every cut (training sets)")
    compute.add_argument("--batch-duration", type=float, default=None,
                         help="seconds of audio per backend call (kaldifeat batches them); default: 200 on a GPU, "
                              "20 on the CPU, where large batches are slower")

    combine = sub.add_parser("combine", help="concatenate the pieces into one manifest")
    combine.add_argument("prefixes", nargs="+", help="the PREFIX of every piece, in order")
    combine.add_argument("--out-manifest", required=True)
    combine.add_argument("--out-rejects", required=True)
    combine.add_argument("--run-info", required=True, help="DIR/NAME: settings and counts go to DIR/NAME.config.yaml")
    return parser


def piece_settings(args: argparse.Namespace, backend_name: str, config: FbankConfig) -> Dict[str, Any]:
    """What must be identical across pieces of one manifest (the combine step checks it)."""
    return {"backend": backend_name, "speed_perturb": list(SPEED_FACTORS) if args.speed_perturb else [],
            "storage_type": STORAGE_TYPE, "fbank": config.to_dict()}


def run_compute(args: argparse.Namespace) -> None:
    prefix = Path(args.prefix)
    manifest = prefix.with_name(prefix.name + ".jsonl.gz")
    record = prefix.with_name(prefix.name + ".config.yaml")  # written last: its presence means the piece is done
    if record.is_file() and manifest.is_file():
        logger.info("%s exists: piece already done, skipping", manifest)
        return
    # One job = one CPU thread, as in Kaldi: parallelism comes from --nj, and torch's own threads would
    # oversubscribe the cores (kaldifeat runs several times slower then).
    torch.set_num_threads(1)
    config = FbankConfig()
    backend = create_backend(args.backend, config, device=args.device)
    batch_duration = args.batch_duration or (200.0 if backend.device.type == "cuda" else 20.0)
    logger.info("fbank %s -> %s with %s (%s)", args.cuts, manifest, backend.name, backend.device)
    cuts = CutSet.from_jsonl_lazy(args.cuts)
    stream = speed_perturbed(cuts, SPEED_FACTORS if args.speed_perturb else ())
    counts = compute_and_store(stream, backend, storage_path=prefix.with_name(prefix.name + ".lca"),
                               manifest_path=manifest, rejects_path=prefix.with_name(prefix.name + ".rejects.tsv"),
                               batch_duration=batch_duration)
    settings = piece_settings(args, backend.name, config)
    settings["input"] = str(args.cuts)
    settings["counts"] = vars(counts)
    write_run_info(prefix.parent, prefix.name, settings)
    logger.info("piece %s: %s", prefix.name, counts.summary())


def run_combine(args: argparse.Namespace) -> None:
    prefixes = [Path(p) for p in args.prefixes]
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
                            args.out_manifest, args.out_rejects)
    if (counts.kept, counts.rejected) != (expected.kept, expected.rejected):
        raise SystemExit(f"combine: pieces hold {counts.kept} kept + {counts.rejected} rejected cuts but their jobs "
                         f"reported {expected.kept} + {expected.rejected}; delete the pieces and recompute")
    settings["counts"] = vars(counts)
    run_dir, run_name = Path(args.run_info).parent, Path(args.run_info).name
    write_run_info(run_dir, run_name, settings)
    logger.info("%s: %s", args.out_manifest, counts.summary())
    if counts.rejected:
        logger.warning("%d cuts rejected, listed in %s", counts.rejected, args.out_rejects)


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
