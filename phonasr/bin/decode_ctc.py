"""CTC decoding worker for steps/decode_ctc.sh: ``decode`` one shard of a feature manifest, ``merge`` the shards.

decode:  python -m phonasr.bin.decode_ctc decode [--beam 16] [--nbest 1] [--shard J/N] CKPT CUTS OUT_DIR
         decodes the cuts J, J+N, J+2N, ... (1-based J) of CUTS (lhotse cuts with precomputed features, or with
         audio and --on-the-fly-fbank BACKEND) with the prefix beam search and writes into OUT_DIR:
           hyp.txt     utt<TAB>text        1-best, detokenised by the checkpoint's tokenizer
           ref.txt     utt<TAB>text        supervision.text or supervision.custom["phones"] (--ref-field)
           nbest.txt   utt<TAB>rank<TAB>log-prob<TAB>text
           logprobs.pt {utt: (T', V) float32 log-posteriors}   with --save-logprobs true (for WFST/MLS decoding)
           decode.config.yaml / decode.versions.json
merge:   python -m phonasr.bin.decode_ctc merge CUTS OUT_DIR SHARD_DIR...
         joins the shards' files into OUT_DIR, sorted by utterance, and checks every cut was decoded once.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from lhotse import CutSet
from lhotse.cut import Cut

from phonasr.batching.cuts import CutFeatures, feature_frames
from phonasr.batching.padding import pad_features
from phonasr.ctc import prefix_beam_search
from phonasr.models.conformer import ConformerEncoder, Conv2dSubsampling
from phonasr.models.loading import TrainedModel, load_trained_model
from phonasr.tokenizers import Tokenizer, load_tokenizer
from phonasr.utils.cli import str2bool, thread_count
from phonasr.utils.io import atomic_torch_save, atomic_write_text, load_checkpoint
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.decode_ctc")

REF_FIELDS = ("text", "phones")
TEXT_FILES = ("hyp.txt", "ref.txt", "nbest.txt")
LOGPROBS = "logprobs.pt"


def _shard(value: str) -> Tuple[int, int]:
    try:
        job, total = (int(x) for x in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes J/N (e.g. 2/4), got '{value}'") from None
    if not 1 <= job <= total:
        raise argparse.ArgumentTypeError(f"--shard J/N needs 1 <= J <= N, got '{value}'")
    return job, total


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    dec = sub.add_parser("decode", help="decode one shard of a cut manifest")
    dec.add_argument("checkpoint", help="phonasr checkpoint (.pt) with the model, its config and tokenizer_dir")
    dec.add_argument("cuts", help="lhotse cut manifest with precomputed features (data/fbank/<lang>/cuts_*.jsonl.gz)")
    dec.add_argument("out_dir", help="where hyp.txt, ref.txt, nbest.txt (and logprobs.pt) go")
    dec.add_argument("--model-name", default=None, help="model inside the checkpoint (default: its only model)")
    dec.add_argument("--tokenizer-dir", default=None, help="lang dir (default: the checkpoint's tokenizer_dir)")
    dec.add_argument("--beam", type=int, default=16, help="prefix beam width")
    dec.add_argument("--nbest", type=int, default=1, help="hypotheses per utterance in nbest.txt (<= beam)")
    dec.add_argument("--ref-field", choices=REF_FIELDS, default="text",
                     help="reference: supervision.text or supervision.custom['phones']")
    dec.add_argument("--max-frames", type=int, default=40000,
                     help="padded input frames per batch (batch size x longest utterance)")
    dec.add_argument("--shard", type=_shard, default=(1, 1), help="J/N: decode cuts J, J+N, ... (1-based)")
    dec.add_argument("--on-the-fly-fbank", default=None, metavar="BACKEND",
                     help="compute fbank from the cuts' audio with this backend (auto, kaldifeat, kaldi-native-fbank, "
                          "lhotse) instead of reading stored features; same numbers as steps/make_fbank.sh")
    dec.add_argument("--save-logprobs", type=str2bool, default=False, help="true: also write logprobs.pt")
    dec.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda, cuda:N")
    dec.add_argument("--num-threads", type=thread_count, default=0,
                     help="CPU threads of this job; 0 = torch's choice (one per core). Jobs x threads should not "
                          "exceed the cores: two jobs of two threads on two cores ran the beam search 30x slower "
                          "than two jobs of one")

    merge = sub.add_parser("merge", help="join the shards' outputs")
    merge.add_argument("cuts", help="the manifest that was decoded (to check completeness)")
    merge.add_argument("out_dir")
    merge.add_argument("shard_dirs", nargs="+")
    return parser


# ------------------------------------------------------------------------------------------------- inputs
def reference(cut: Cut, field: str) -> str:
    if len(cut.supervisions) != 1:
        raise ValueError(f"cut '{cut.id}' has {len(cut.supervisions)} supervisions; decoding expects exactly one "
                         "per cut (the manifests of local/commonvoice/prepare.sh)")
    sup = cut.supervisions[0]
    if field == "text":
        return sup.text or ""
    phones = (sup.custom or {}).get("phones")
    if phones is None:
        raise ValueError(f"cut '{cut.id}' has no supervision.custom['phones']; use --ref-field text or a manifest "
                         "with ground-truth phonemes")
    return phones


def shard_cuts(path: str, job: int, num_jobs: int, features: CutFeatures) -> List[Cut]:
    cuts = [c for i, c in enumerate(CutSet.from_file(path)) if i % num_jobs == job - 1]
    for cut in cuts:  # a cut without features (or audio) fails before any decoding
        features.check(cut, path)
    return cuts


def batches(cuts: Sequence[Cut], max_frames: int) -> Iterator[List[Cut]]:
    """Longest first, so each batch pads little; a batch's padded size stays under ``max_frames``."""
    batch: List[Cut] = []
    for cut in sorted(cuts, key=feature_frames, reverse=True):
        if batch and (len(batch) + 1) * feature_frames(batch[0]) > max_frames:
            yield batch
            batch = []
        batch.append(cut)
    if batch:
        yield batch


def load_batch(cuts: Sequence[Cut], input_dim: int, features: CutFeatures) -> Tuple[torch.Tensor, torch.Tensor]:
    """Padded features as in training (:func:`phonasr.batching.padding.pad_features`) and their lengths."""
    feats = features.load(cuts)
    for cut, f in zip(cuts, feats):
        if f.dim() != 2 or f.size(1) != input_dim:
            raise ValueError(f"cut '{cut.id}' has features of shape {tuple(f.shape)}; the model expects "
                             f"(frames, {input_dim})")
    lengths = torch.tensor([f.size(0) for f in feats])
    # at least the front end's minimum, so a batch of very short cuts still runs (they decode to nothing)
    return pad_features(feats, min_frames=Conv2dSubsampling.MIN_FRAMES), lengths


# ------------------------------------------------------------------------------------------------- decode
def load_model_and_tokenizer(args: argparse.Namespace, device: torch.device) -> Tuple[TrainedModel, Tokenizer]:
    trained = load_trained_model(args.checkpoint, args.model_name, device=device)
    tokenizer_dir = args.tokenizer_dir or trained.tokenizer_dir
    if not tokenizer_dir:
        raise ValueError(f"{args.checkpoint} records no tokenizer_dir; pass --tokenizer-dir")
    tokenizer = load_tokenizer(tokenizer_dir)
    if tokenizer.vocab_size != trained.model.vocab_size:
        raise ValueError(f"tokenizer {tokenizer_dir} has {tokenizer.vocab_size} tokens but model "
                         f"'{trained.name}' outputs {trained.model.vocab_size}; pass the lang dir it was trained with")
    symbols = trained.symbols
    if symbols is not None and list(symbols) != list(tokenizer.symbols):
        raise ValueError(f"the symbols of {tokenizer_dir} differ from those the model was trained with; "
                         "the lang dir was rebuilt after training")
    return trained, tokenizer


def run_decode(args: argparse.Namespace) -> None:
    if not 1 <= args.nbest <= args.beam:
        raise ValueError(f"need 1 <= --nbest <= --beam, got nbest {args.nbest}, beam {args.beam}")
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    trained, tokenizer = load_model_and_tokenizer(args, device)
    model = trained.model
    if not isinstance(model.encoder, ConformerEncoder):
        raise ValueError(f"model '{trained.name}' of {args.checkpoint} is not an acoustic (conformer) model; "
                         "decode_ctc decodes speech features")
    input_dim = model.encoder.config.input_dim
    job, num_jobs = args.shard
    features = CutFeatures(args.on_the_fly_fbank)
    cuts = shard_cuts(args.cuts, job, num_jobs, features)
    references = {c.id: reference(c, args.ref_field) for c in cuts}  # bad references fail before any decoding
    logger.info("decoding %d cuts of %s (shard %d/%d, %s) with model '%s' of %s on %s, beam %d, nbest %d",
                len(cuts), args.cuts, job, num_jobs, features.describe(), trained.name, args.checkpoint, device,
                args.beam, args.nbest)

    hyp_lines: List[str] = []
    ref_lines: List[str] = []
    nbest_lines: List[str] = []
    saved: Dict[str, torch.Tensor] = {}
    empty = 0
    encoder_s = search_s = 0.0
    start = time.time()
    for n, batch in enumerate(batches(cuts, args.max_frames), start=1):
        feats, lengths = load_batch(batch, input_dim, features)
        t0 = time.time()
        with torch.no_grad():
            log_probs, out_lens = model(feats.to(device), lengths.to(device))
        t1 = time.time()
        hyps = prefix_beam_search(log_probs, out_lens, beam=args.beam, nbest=args.nbest)
        t2 = time.time()
        encoder_s, search_s = encoder_s + t1 - t0, search_s + t2 - t1
        for i, (cut, nbest) in enumerate(zip(batch, hyps)):
            texts = [tokenizer.decode(h.tokens) for h in nbest]
            empty += not nbest[0].tokens
            hyp_lines.append(f"{cut.id}\t{texts[0]}")
            ref_lines.append(f"{cut.id}\t{references[cut.id]}")
            nbest_lines.extend(f"{cut.id}\t{rank}\t{h.log_prob:.4f}\t{text}"
                               for rank, (h, text) in enumerate(zip(nbest, texts), start=1))
            if args.save_logprobs:
                saved[cut.id] = log_probs[i, : int(out_lens[i])].cpu().clone()
        if n % 20 == 0:
            logger.info("%d batches, %d cuts, %.1f cuts/s", n, len(hyp_lines), len(hyp_lines) / (time.time() - start))

    out_dir = Path(args.out_dir)
    write_outputs(out_dir, hyp_lines, ref_lines, nbest_lines)
    if args.save_logprobs:
        atomic_torch_save(saved, out_dir / LOGPROBS)
    write_run_info(out_dir, "decode", {k: v for k, v in vars(args).items() if k != "command"})
    logger.info("decoded %d cuts in %.1f s (encoder %.1f s, beam search %.1f s); %d empty hypotheses -> %s",
                len(hyp_lines), time.time() - start, encoder_s, search_s, empty, out_dir)


def _utt(line: str) -> str:
    return line.split("\t", 1)[0]


def _utt_and_rank(line: str) -> Tuple[str, int]:
    fields = line.split("\t", 2)
    return fields[0], int(fields[1]) if len(fields) > 2 else 0


def write_outputs(out_dir: Path, hyp: List[str], ref: List[str], nbest: List[str]) -> None:
    """The three text files, sorted by utterance (and n-best rank, numerically)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, lines in zip(TEXT_FILES, (hyp, ref, nbest)):
        key = _utt_and_rank if name == "nbest.txt" else _utt
        atomic_write_text(out_dir / name, "".join(f"{line}\n" for line in sorted(lines, key=key)))


# ------------------------------------------------------------------------------------------------- merge
def run_merge(args: argparse.Namespace) -> None:
    merged: Dict[str, List[str]] = {name: [] for name in TEXT_FILES}
    for shard in args.shard_dirs:
        for name in TEXT_FILES:
            path = Path(shard) / name
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing: decoding job of {shard} did not finish; see its log")
            merged[name].extend(path.read_text(encoding="utf-8").splitlines())
    decoded = [_utt(line) for line in merged["hyp.txt"]]
    expected = [c.id for c in CutSet.from_file(args.cuts)]
    if sorted(decoded) != sorted(expected):
        missing = set(expected) - set(decoded)
        raise ValueError(f"the shards decoded {len(decoded)} utterances ({len(set(decoded))} distinct) but "
                         f"{args.cuts} has {len(expected)}; missing e.g. {sorted(missing)[:3]}; rerun the decoding")
    out_dir = Path(args.out_dir)
    write_outputs(out_dir, merged["hyp.txt"], merged["ref.txt"], merged["nbest.txt"])
    pieces = [Path(s) / LOGPROBS for s in args.shard_dirs if (Path(s) / LOGPROBS).is_file()]
    if pieces:
        saved: Dict[str, torch.Tensor] = {}
        for piece in pieces:
            saved.update(load_checkpoint(piece))
        atomic_torch_save(saved, out_dir / LOGPROBS)
    logger.info("merged %d shards: %d utterances -> %s", len(args.shard_dirs), len(decoded), out_dir)


def main(argv: Optional[List[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if args.command == "decode":
        run_decode(args)
    else:
        run_merge(args)


if __name__ == "__main__":
    main()
