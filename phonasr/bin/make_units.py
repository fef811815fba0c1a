"""K-means units of one S2P encoder layer, for steps/make_units.sh: ``fit`` the centroids, ``assign`` the units.

fit:     python -m phonasr.bin.make_units fit [--layer 2] [--k 500] [--seed 0] CKPT TRAIN_CUTS KMEANS_PT
         runs the encoder of CKPT over TRAIN_CUTS (lhotse cuts with features), fits k-means on at most
         --max-fit-frames frames of the layer (drawn by --seed) and writes KMEANS_PT
         ({"centroids": (k, D) float32, "meta": {k, layer, checkpoint, seed, frames_used, inertia, ...}}).
assign:  python -m phonasr.bin.make_units assign [--dedup false] [--save-features false] CKPT KMEANS_PT OUT_DIR CUTS...
         runs the same encoder layer (the one recorded in KMEANS_PT) over each manifest cuts_<set>.jsonl.gz and
         writes into OUT_DIR (:mod:`phonasr.units.store` files):
           units_<set>.pt        int64 (T',) unit per encoder frame: pairs with frame labels (purity, token ASR)
           units_dedup_<set>.pt  with --dedup true: runs of a repeated unit collapsed (the unit LM's input); meta
                                 deduplicated: true. No longer frame-aligned, so purity refuses it; the frame-level
                                 file beside it holds the run lengths implicitly
           features_<set>.pt     with --save-features true: the layer's float16 (T', D) frames (what ABX reads)

Units are each frame's nearest centroid (:func:`phonasr.units.kmeans.assign`), on --device.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch

from phonasr.units.kmeans import (
    DEFAULT_ITERATIONS,
    DEFAULT_K,
    DEFAULT_MAX_FRAMES,
    KMeans,
    assign,
    deduplicate,
    fit_kmeans,
    load_kmeans,
    save_kmeans,
)
from phonasr.units.layers import extract_layers
from phonasr.units.store import save_arrays
from phonasr.utils.cli import device_name, str2bool, thread_count
from phonasr.utils.device import choose_device
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.make_units")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="fit k-means on one encoder layer's frames of a training manifest")
    fit.add_argument("checkpoint", help="phonasr S2P checkpoint (.pt)")
    fit.add_argument("cuts", help="training cut manifest with features (data/fbank/<lang>/cuts_train.jsonl.gz)")
    fit.add_argument("kmeans", help="k-means file to write (e.g. exp/units_l2_k500/kmeans.pt)")
    fit.add_argument("--layer", type=int, default=2, help="encoder layer: 0 = front end, 1..N = blocks")
    fit.add_argument("--k", type=int, default=DEFAULT_K, help="number of units (lowered to the distinct frames)")
    fit.add_argument("--seed", type=int, default=0, help="seed of the frame subsample and the initialisation")
    fit.add_argument("--max-fit-frames", type=int, default=DEFAULT_MAX_FRAMES,
                     help="at most this many frames, drawn by --seed, are clustered")
    fit.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS, help="k-means iterations")

    run = sub.add_parser("assign", help="write the units (and optionally the features) of manifests")
    run.add_argument("checkpoint", help="the S2P checkpoint the k-means was fitted on")
    run.add_argument("kmeans", help="k-means file of 'fit'; its layer is used")
    run.add_argument("out_dir", help="where units_<set>.pt (units_dedup_<set>.pt, features_<set>.pt) go")
    run.add_argument("cuts", nargs="+", help="cut manifests cuts_<set>.jsonl.gz with features")
    run.add_argument("--dedup", type=str2bool, default=False,
                     help="true: also write units_dedup_<set>.pt, runs of a repeated unit collapsed")
    run.add_argument("--save-features", type=str2bool, default=False,
                     help="true: also write the layer's frames as features_<set>.pt (for ABX)")

    for p in (fit, run):
        p.add_argument("--model-name", default=None, help="model inside the checkpoint (default: its only model)")
        p.add_argument("--max-frames", type=int, default=40000, help="padded input frames per encoder batch")
        p.add_argument("--device", default="auto", type=device_name, help="auto (cuda when present), cpu, cuda:N")
        p.add_argument("--num-threads", type=thread_count, default=0, help="CPU threads; 0 = torch's choice")
    return parser


def set_name(cuts: str) -> str:
    """``test`` of ``.../cuts_test.jsonl.gz``: the name of a manifest's output files."""
    name = Path(cuts).name
    for suffix in (".gz", ".jsonl"):
        name = name[: -len(suffix)] if name.endswith(suffix) else name
    return name[len("cuts_"):] if name.startswith("cuts_") else name


def run_fit(args: argparse.Namespace) -> None:
    layers, am, _ = extract_layers(args.checkpoint, args.cuts, [args.layer], device=choose_device(args.device),
                                   model_name=args.model_name, max_frames=args.max_frames)
    frames = torch.cat(list(layers[args.layer].values()))
    logger.info("fitting k=%d on layer %d: %d frames of %d cuts, seed %d", args.k, args.layer, frames.size(0),
                len(layers[args.layer]), args.seed)
    model = fit_kmeans(frames, args.k, seed=args.seed, max_frames=args.max_fit_frames, iterations=args.iterations)
    model.meta.update(layer=args.layer, checkpoint=args.checkpoint, model=am.name, cuts=args.cuts)
    save_kmeans(args.kmeans, model)
    write_run_info(Path(args.kmeans).parent, "kmeans", {k: v for k, v in vars(args).items() if k != "command"},
                   seed=args.seed)
    logger.info("wrote %s (k=%d, inertia %.4f per frame)", args.kmeans, model.k, model.meta["inertia"])


def units_of(features: Dict[str, torch.Tensor], model: KMeans, device: torch.device) -> Dict[str, torch.Tensor]:
    """Each cut's unit per frame, all frames of the manifest assigned in one pass of :func:`assign`."""
    ids = list(features)
    if not ids:
        return {}
    start = time.time()
    units = assign(torch.cat([features[c] for c in ids]), model.centroids.to(device)).cpu()
    elapsed = time.time() - start
    logger.info("assigned %d frames to %d units in %.2f s (%.0f frames/s)", units.size(0), model.k, elapsed,
                units.size(0) / max(elapsed, 1e-9))
    return dict(zip(ids, units.split([features[c].size(0) for c in ids])))


def run_assign(args: argparse.Namespace) -> None:
    names = [set_name(c) for c in args.cuts]
    if len(set(names)) != len(names):
        raise ValueError(f"manifests {args.cuts} share set names {names}; give each set its own out dir")
    model = load_kmeans(args.kmeans)
    layer = int(model.meta["layer"])
    if model.meta.get("checkpoint") != args.checkpoint:
        logger.warning("%s was fitted on %s, not %s: make sure it is the same encoder", args.kmeans,
                       model.meta.get("checkpoint"), args.checkpoint)
    device = choose_device(args.device)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for cuts, name in zip(args.cuts, names):
        layers, am, frame_shift = extract_layers(args.checkpoint, cuts, [layer], device=device,
                                                 model_name=args.model_name, max_frames=args.max_frames)
        features = layers[layer]
        units = units_of(features, model, device)
        meta = {"k": model.k, "layer": layer, "kmeans": args.kmeans, "checkpoint": args.checkpoint,
                "cuts": cuts, "frame_shift": frame_shift}
        save_arrays(out_dir / f"units_{name}.pt", "units", units, meta)
        if args.dedup:
            runs = {c: deduplicate(u)[0] for c, u in units.items()}
            save_arrays(out_dir / f"units_dedup_{name}.pt", "units", runs, {**meta, "deduplicated": True})
            logger.info("deduplicated runs: %.2f frames per unit token", sum(u.numel() for u in units.values())
                        / max(sum(r.numel() for r in runs.values()), 1))
        if args.save_features:
            save_arrays(out_dir / f"features_{name}.pt", "features", features,
                        {"checkpoint": args.checkpoint, "model": am.name, "layer": layer,
                         "frame_shift": meta["frame_shift"], "cuts": cuts})
        logger.info("wrote the units of %d cuts of %s into %s", len(units), cuts, out_dir)
    write_run_info(out_dir, "units", {k: v for k, v in vars(args).items() if k != "command"})


def main(argv: Optional[List[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    try:
        if args.command == "fit":
            run_fit(args)
        else:
            run_assign(args)
    except (ValueError, FileNotFoundError, ImportError) as e:
        raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
    main()
