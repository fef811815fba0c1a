"""Transcribe audio files with a packed model directory: ``phonasr transcribe MODEL_DIR audio.wav ...``.

    phonasr transcribe [--output-format text|json|ctm] [--decoder greedy|beam|lm] [--backend torch|onnx]
                       MODEL_DIR [AUDIO ...] [--list FILE] [--wav-scp FILE] [--manifest CUTS]

(also ``python -m phonasr.bin.transcribe``). Audio of any sample rate and channel count that libsndfile reads
(WAV, FLAC, OGG, MP3, ...) is resampled to the model's rate (scipy's polyphase resampler) and its channels are
averaged (``--channel N`` takes one). Prints ``name<TAB>text`` per input in input order (``--output FILE``
writes there instead); ``json`` adds the phonemes, word times from the CTC alignment and the scores, ``ctm``
prints one line per word. An input that cannot be read or decoded gets ``error: NAME (SOURCE): reason`` on
stderr and the others still finish; the exit status is the number of failed inputs (at most 100). Long audio is
decoded in chunks (decoding.yaml: chunk_seconds, context_seconds, segment_seconds), so memory stays bounded.
``--decoder lm`` decodes the S2P's phonemes into words through the model directory's phone-level graph with its
word LM (packed with ``--graph``; LM weight: decoding.yaml's lm_weight, or ``--lm-weight``); the P2G is not used.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Iterator, Optional, Sequence, TextIO

from phonasr.serve import inputs as sources
from phonasr.serve.formats import FORMATS
from phonasr.serve.model_dir import ModelDirError, load_model_dir
from phonasr.serve.recognizer import load_recognizer
from phonasr.serve.transcribe import exit_status, transcribe
from phonasr.utils.cli import device_name, str2bool, thread_count
from phonasr.utils.io import atomic_path
from phonasr.utils.logging import setup_logging

NOT_BUILT = ("mls",)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phonasr transcribe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", help="a packed model directory (exp/<system>/model)")
    parser.add_argument("audio", nargs="*", help="audio files")
    parser.add_argument("--list", default=None, help="a file with one audio path per line")
    parser.add_argument("--wav-scp", default=None, help="a Kaldi wav.scp (<utt-id> <path>; commands are refused)")
    parser.add_argument("--manifest", default=None, help="a lhotse cut or recording manifest")
    parser.add_argument("--output-format", choices=sorted(FORMATS), default="text", help="default: text")
    parser.add_argument("--output", default=None, help="write here instead of stdout (atomically, at the end)")
    parser.add_argument("--decoder", choices=["greedy", "beam", "lm", *NOT_BUILT], default=None,
                        help="default: decoding.yaml's (beam); lm: the packed phone-level graph and word LM")
    parser.add_argument("--lm-weight", type=float, default=None, help="lm: default decoding.yaml's lm_weight")
    parser.add_argument("--lm-beam", type=float, default=None, help="lm: search beam (default decoding.yaml's, 16)")
    parser.add_argument("--s2p-beam", type=int, default=None, help="default: decoding.yaml's")
    parser.add_argument("--p2g-beam", type=int, default=None, help="default: decoding.yaml's")
    parser.add_argument("--backend", choices=["torch", "onnx"], default="torch",
                        help="torch, or onnxruntime on the model dir's ONNX export (phonasr export-onnx)")
    parser.add_argument("--int8", type=str2bool, default=False, help="onnx: the int8 quantised networks")
    parser.add_argument("--device", type=device_name, default="cpu", help="cpu (default), cuda, cuda:N")
    parser.add_argument("--num-threads", type=thread_count, default=0, help="0: the library's choice")
    parser.add_argument("--batch-seconds", type=float, default=120.0, help="audio per batch (default 120)")
    parser.add_argument("--chunk-seconds", type=float, default=None, help="S2P chunk length (decoding.yaml)")
    parser.add_argument("--channel", type=int, default=None, help="take this channel (0-based) instead of the mean")
    parser.add_argument("--progress", type=str2bool, default=None, help="progress bar (default: on a terminal)")
    parser.add_argument("--verify", type=str2bool, default=True, help="check every file's sha256 first")
    return parser


@contextlib.contextmanager
def _output(path: Optional[str]) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        yield f


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = get_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.decoder in NOT_BUILT:
        parser.error(f"--decoder {args.decoder} (G2P marginal-likelihood rescoring of the LM n-best) is not built into "
                     "phonasr transcribe yet; use --decoder lm, beam or greedy")
    if args.int8 and args.backend != "onnx":
        parser.error("--int8 true needs --backend onnx")
    setup_logging()
    try:
        items = sources.from_paths(args.audio)
        if args.list:
            items += sources.from_list(args.list)
        if args.wav_scp:
            items += sources.from_wav_scp(args.wav_scp)
        if args.manifest:
            items += sources.from_manifest(args.manifest)
        if not items:
            parser.error("no input: name audio files, or --list, --wav-scp or --manifest")
        if args.num_threads:
            import torch

            torch.set_num_threads(args.num_threads)
        model_dir = load_model_dir(args.model_dir, verify_files=args.verify)
        recognizer = load_recognizer(model_dir, args.backend, args.device, args.num_threads, args.int8,
                                     {"decoder": args.decoder, "s2p_beam": args.s2p_beam, "p2g_beam": args.p2g_beam,
                                      "chunk_seconds": args.chunk_seconds, "lm_weight": args.lm_weight,
                                      "lm_beam": args.lm_beam})
        with _output(args.output) as out:
            failed = transcribe(recognizer, items, out, output_format=args.output_format,
                                batch_seconds=args.batch_seconds, channel=args.channel, progress=args.progress)
    except (ModelDirError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(MAX_USER_ERROR)
    sys.exit(exit_status(failed))


MAX_USER_ERROR = 2  # like argparse: the command could not start (no input was decoded)

if __name__ == "__main__":
    main()
