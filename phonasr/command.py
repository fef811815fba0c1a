"""The ``phonasr`` console command: ``phonasr <subcommand> ...`` runs the worker of that subcommand.

Each subcommand is a worker of :mod:`phonasr.bin` (also runnable as ``python -m phonasr.bin.<worker>``); this
dispatcher runs it by module name, so no worker imports another and each keeps its own argument parser.
"""
from __future__ import annotations

import runpy
import sys
from typing import Optional, Sequence

SUBCOMMANDS = {
    "transcribe": ("transcribe", "transcribe audio files with a packed model directory"),
    "pack": ("pack_model", "pack a trained system into a model directory"),
    "export-onnx": ("export_onnx", "export a model directory's networks to ONNX (and int8)"),
    "doctor": ("doctor", "check what this machine has"),
}


def usage() -> str:
    lines = ["usage: phonasr <subcommand> [options]   (phonasr <subcommand> --help)", "subcommands:"]
    lines += [f"  {name:<12} {text}" for name, (_, text) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        sys.exit(0 if args else 2)
    if args[0] not in SUBCOMMANDS:
        print(f"error: unknown subcommand '{args[0]}'; choose one of {', '.join(SUBCOMMANDS)}", file=sys.stderr)
        sys.exit(2)
    sys.argv = [f"phonasr {args[0]}", *args[1:]]
    runpy.run_module(f"phonasr.bin.{SUBCOMMANDS[args[0]][0]}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
