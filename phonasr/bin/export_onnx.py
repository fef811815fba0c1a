"""Export a model directory's networks to ONNX (``phonasr export-onnx MODEL_DIR``), for ``transcribe --backend onnx``.

    python -m phonasr.bin.export_onnx [--components s2p,p2g,g2p] [--int8 true] MODEL_DIR

Writes MODEL_DIR/onnx/<network>.onnx (opset 17; dynamic batch and length axes; inputs ``inputs``, ``lengths``,
outputs ``log_probs``, ``out_lengths``) and, with --int8 true, <network>.int8.onnx (onnxruntime's dynamic int8
quantisation of the weights), and records them with their sha256 in MODEL_DIR/model.yaml.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from phonasr.serve.model_dir import ModelDirError, load_model_dir
from phonasr.serve.onnx_export import export_model_dir
from phonasr.utils.cli import str2bool
from phonasr.utils.logging import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phonasr export-onnx", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", help="a packed model directory")
    parser.add_argument("--components", default=None, help="comma-separated (default: every network it holds)")
    parser.add_argument("--int8", type=str2bool, default=False, help="also write int8 quantised copies")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    try:
        model_dir = load_model_dir(args.model_dir)
        components = args.components.split(",") if args.components else list(model_dir.manifest.components)
        export_model_dir(model_dir, components, int8=args.int8)
    except (ModelDirError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
