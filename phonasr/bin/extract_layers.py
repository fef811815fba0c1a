"""Per-layer encoder features of a cut manifest (steps/extract_layers.sh): what the ABX stage reads.

    python -m phonasr.bin.extract_layers [--layers 0-2] [--device auto] CHECKPOINT CUTS OUT_DIR

OUT_DIR gets ``layer<N>.pt`` per layer (a ``features`` file of :mod:`phonasr.units.store`: float16 (T', D) per
cut at the encoder's 40 ms frame rate) and ``extract_layers.config.yaml`` / ``.versions.json``. Any conformer
checkpoint works: the pretrained S2P, a CTC or a phoneme-classification fine-tuning.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from phonasr.units.layers import extract_layers, layer_list
from phonasr.units.store import save_arrays
from phonasr.utils.cli import device_name
from phonasr.utils.device import choose_device
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

log = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a conformer checkpoint (final.pt)")
    parser.add_argument("cuts", help="cut manifest with fbank features")
    parser.add_argument("out_dir")
    parser.add_argument("--layers", default="all",
                        help="layers to keep: 'all' (0 = front end .. N = last block), or e.g. 1,3 or 0-2")
    parser.add_argument("--model-name", default=None, help="the model of a checkpoint holding several")
    parser.add_argument("--device", default="auto", type=device_name,
                        help="auto (GPU if there is one), cpu, cuda, cuda:N")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        layers = None if args.layers == "all" else layer_list(args.layers)
        per_layer, am, frame_shift = extract_layers(args.checkpoint, args.cuts, layers,
                                                    device=choose_device(args.device), model_name=args.model_name)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for layer, arrays in per_layer.items():
        save_arrays(out / f"layer{layer}.pt", "features", arrays,
                    {"checkpoint": args.checkpoint, "model": am.name, "layer": layer, "frame_shift": frame_shift,
                     "cuts": args.cuts})
    write_run_info(out, "extract_layers", {"checkpoint": args.checkpoint, "cuts": args.cuts,
                                           "layers": sorted(per_layer)})
    log.info("wrote layers %s of %d cuts to %s", sorted(per_layer), len(next(iter(per_layer.values()))), out)


if __name__ == "__main__":
    main()
