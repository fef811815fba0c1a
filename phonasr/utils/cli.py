"""Argument types shared by the workers' command lines."""
from __future__ import annotations

import argparse


def str2bool(value: str) -> bool:
    """``true``/``false`` only, as Kaldi-style shell scripts pass booleans (parse_options.sh's rule)."""
    if value not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got '{value}'")
    return value == "true"


def thread_count(value: str) -> int:
    """``--num-threads``: 0 leaves torch its own choice (one thread per core), N > 0 asks for N threads.

    The same meaning as the shell scripts' --num-threads (utils/num_threads.sh), which pass the value through.
    """
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (torch's choice) or a positive thread count, got '{value}'")
    return count


def device_name(value: str) -> str:
    """``--device``: auto, cpu, cuda or cuda:N, refused at parse time (one usage line, no traceback) when this
    machine cannot honour it. The worker passes the name on to :func:`phonasr.utils.device.choose_device`."""
    from phonasr.utils.device import DeviceUnavailable, choose_device  # torch: only workers that take --device

    try:
        choose_device(value)
    except DeviceUnavailable as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return value


def add_token_model_options(parser: argparse.ArgumentParser, model: str, inputs: str, outputs: str,
                            nbest: int, nbest_help: str) -> None:
    """The options of a worker that runs a token model (P2G or G2P) with the prefix beam search: which model of
    the checkpoint, its lang dirs, the search, the batch size and the device. ``model`` names the default model of
    a JSA checkpoint, ``inputs``/``outputs`` the kinds of lang dir it reads and writes (for the help)."""
    parser.add_argument("--model-name", default=None,
                        help=f"model in the checkpoint (default: {model}, else its only one)")
    parser.add_argument("--input-tokenizer-dir", default=None, help=f"{inputs} lang dir (default: the recorded one)")
    parser.add_argument("--output-tokenizer-dir", default=None, help=f"{outputs} lang dir (default: the recorded one)")
    parser.add_argument("--beam", type=int, default=16, help=f"{model.upper()} prefix beam width")
    parser.add_argument("--nbest", type=int, default=nbest, help=nbest_help)
    parser.add_argument("--max-tokens", type=int, default=20000, help="padded input tokens per batch")
    parser.add_argument("--device", default="auto", type=device_name,
                        help="auto (cuda when present), cpu, cuda, cuda:N")
