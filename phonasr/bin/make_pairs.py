"""Pair S2P hypotheses with the true text: the training pairs of the P2G and G2P (steps/make_pairs.sh).

    python -m phonasr.bin.make_pairs [--nbest N] [--rejects FILE] S2P_DECODE_DIR CUTS OUT.tsv

For every cut of CUTS, its S2P hypotheses in S2P_DECODE_DIR (written by steps/decode_ctc.sh) paired with the cut's
``supervision.text``, one row ``utt_id<TAB>phones<TAB>text`` each (the format of :mod:`phonasr.batching.pairs`):

* ``--nbest 1`` (SPG init: 1-best of the 10-min fine-tuned S2P on train and dev): the 1-best of hyp.txt, row id
  ``utt_id``;
* ``--nbest N`` (P2G augmentation: the JSA S2P's n-best on train): up to N hypotheses of nbest.txt, row ids
  ``utt_id-rank``, every one paired with the same true text.

A pair with no phonemes or no text cannot train anything, and a cut the decoding missed has no phonemes: these
are written to the rejects file (default OUT with ``.rejects.tsv`` for ``.tsv``; the columns of
:mod:`phonasr.data.rejects`, with the pair file's name as the split) and counted in the log, never dropped
silently. A hypothesis for an utterance that CUTS lacks means the decode dir and the manifest do not belong
together, which is an error.
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from lhotse import CutSet

from phonasr.bin.decode_ctc import reference
from phonasr.data.rejects import RejectLog
from phonasr.utils.io import atomic_write_text
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.make_pairs")


@dataclass(frozen=True)
class S2PHypothesis:
    """One hypothesis of an S2P decode dir and where it was read (for rejects and error messages)."""

    rank: int
    log_prob: Optional[float]  # log P(phones | speech) from nbest.txt; None when read from hyp.txt
    phones: str
    file: str
    line: int


def read_s2p_hypotheses(decode_dir: str | Path, nbest: int) -> Dict[str, List[S2PHypothesis]]:
    """Utterance -> its best ``nbest`` hypotheses, best first: hyp.txt for 1, nbest.txt otherwise.

    Shared by decode_p2g, which reads the same S2P decodings. Malformed lines and repeated (utterance, rank)
    entries are errors naming the file and line: a decode dir edited by hand or merged twice must not feed
    training or scoring.
    """
    if nbest < 1:
        raise ValueError(f"the number of S2P hypotheses per utterance must be >= 1, got {nbest}")
    decode_dir = Path(decode_dir)
    path = decode_dir / ("hyp.txt" if nbest == 1 else "nbest.txt")
    if not path.is_file():
        hint = "decode with steps/decode_ctc.sh" + ("" if nbest == 1 else f" --nbest {nbest} (or more)")
        raise FileNotFoundError(f"{path} does not exist; {hint}")
    hyps: Dict[str, List[S2PHypothesis]] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            utt, hyp = _parse_line(line, path, lineno, nbest == 1)
            entries = hyps.setdefault(utt, [])
            if any(h.rank == hyp.rank for h in entries):
                raise ValueError(f"{path}:{lineno}: utterance '{utt}' rank {hyp.rank} appears twice")
            entries.append(hyp)
    for entries in hyps.values():
        entries.sort(key=lambda h: h.rank)
        del entries[nbest:]
    most = max((len(entries) for entries in hyps.values()), default=0)
    if 0 < most < nbest:
        logger.warning("%s holds at most %d hypotheses per utterance, fewer than the %d asked for (decode with "
                       "--nbest %d for more)", path, most, nbest, nbest)
    return hyps


def _parse_line(line: str, path: Path, lineno: int, one_best: bool) -> Tuple[str, S2PHypothesis]:
    fields = line.split("\t")
    expected = 2 if one_best else 4
    if len(fields) != expected:
        layout = "utt<TAB>phones" if one_best else "utt<TAB>rank<TAB>log-prob<TAB>phones"
        raise ValueError(f"{path}:{lineno}: expected {layout} ({expected} fields), got {len(fields)}: {line[:100]!r}")
    utt = fields[0].strip()
    if not utt:
        raise ValueError(f"{path}:{lineno}: empty utterance id")
    if one_best:
        return utt, S2PHypothesis(1, None, " ".join(fields[1].split()), str(path), lineno)
    try:
        rank, log_prob = int(fields[1]), float(fields[2])
    except ValueError:
        raise ValueError(f"{path}:{lineno}: rank and log-prob must be numbers, got {fields[1]!r} and "
                         f"{fields[2]!r}") from None
    if rank < 1:
        raise ValueError(f"{path}:{lineno}: ranks start at 1, got {rank}")
    return utt, S2PHypothesis(rank, log_prob, " ".join(fields[3].split()), str(path), lineno)


def cut_texts(cuts_path: str | Path) -> Dict[str, Tuple[str, int]]:
    """Cut id -> (supervision.text, 1-based line of the cut in the manifest)."""
    if not Path(cuts_path).is_file():
        raise FileNotFoundError(f"cut manifest {cuts_path} does not exist")
    return {cut.id: (reference(cut, "text"), line) for line, cut in enumerate(CutSet.from_file(cuts_path), 1)}


def make_pairs(hyps: Dict[str, List[S2PHypothesis]], texts: Dict[str, Tuple[str, int]], cuts_path: str, nbest: int,
               rejects: RejectLog, split: str) -> List[str]:
    """Pair rows for every cut, in cut-id order; what cannot be paired goes to ``rejects``."""
    unknown = sorted(set(hyps) - set(texts))
    if unknown:
        first = hyps[unknown[0]][0]
        raise ValueError(f"{first.file} holds {len(unknown)} utterances that {cuts_path} lacks (e.g. '{unknown[0]}' "
                         "): the decode dir was made from another manifest")
    rows: List[str] = []
    for utt in sorted(texts):
        text, cut_line = texts[utt]
        if utt not in hyps:
            rejects.add(split, cuts_path, cut_line, utt, "missing_hypothesis", "the S2P decoding has no hypothesis")
            continue
        if not text.strip():
            rejects.add(split, cuts_path, cut_line, utt, "empty_text", "supervision.text is empty")
            continue
        for hyp in hyps[utt]:
            row_id = utt if nbest == 1 else f"{utt}-{hyp.rank}"
            if not hyp.phones:
                rejects.add(split, hyp.file, hyp.line, row_id, "empty_hypothesis", "the S2P output no phonemes")
                continue
            rows.append(f"{row_id}\t{hyp.phones}\t{' '.join(text.split())}")
    return rows


def default_rejects_path(out: Path) -> Path:
    stem = out.name[: -len(".tsv")] if out.name.endswith(".tsv") else out.name
    return out.with_name(f"{stem}.rejects.tsv")


def log_rejects(rejects: RejectLog, split: str, path: Path) -> None:
    """The reject count per reason and the first ids, so a bad decoding shows in the stage log."""
    count = rejects.count(split)
    if count:
        reasons = ", ".join(f"{n} {reason}" for reason, n in rejects.reasons(split).most_common())
        ids = ", ".join(r.utt_id for r in rejects.items[:5])
        logger.warning("rejected %d items (%s), e.g. %s; all listed in %s", count, reasons, ids, path)
    else:
        logger.info("no rejects (empty list written to %s)", path)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("decode_dir", help="S2P decode dir of steps/decode_ctc.sh (hyp.txt, nbest.txt)")
    parser.add_argument("cuts", help="the cut manifest that was decoded; supervision.text is the true text")
    parser.add_argument("out", help="pair file to write: utt_id[-rank]<TAB>phones<TAB>text")
    parser.add_argument("--nbest", type=int, default=1,
                        help="hypotheses per utterance: 1 reads hyp.txt, N > 1 up to N of nbest.txt")
    parser.add_argument("--rejects", default=None, help="rejects file (default: OUT with .rejects.tsv)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    out = Path(args.out)
    rejects_path = Path(args.rejects) if args.rejects else default_rejects_path(out)
    hyps = read_s2p_hypotheses(args.decode_dir, args.nbest)
    texts = cut_texts(args.cuts)
    rejects = RejectLog()
    split = out.name
    rows = make_pairs(hyps, texts, args.cuts, args.nbest, rejects, split)
    atomic_write_text(rejects_path, rejects.to_tsv())
    log_rejects(rejects, split, rejects_path)
    if not rows:
        raise ValueError(f"no pairs: all {len(texts)} cuts of {args.cuts} were rejected (see {rejects_path})")
    atomic_write_text(out, "".join(f"{row}\n" for row in rows))
    write_run_info(out.parent, f"make_pairs.{out.name}", {**vars(args), "rejects": str(rejects_path)})
    logger.info("wrote %d pairs (up to %d per cut of %d, %d rejected items) to %s", len(rows), args.nbest,
                len(texts), rejects.count(split), out)


if __name__ == "__main__":
    main()
