"""Training pairs of the P2G and G2P from decodings: S2P hypotheses paired with the true text of their cuts.

Pair files hold ``utt_id<TAB>phones<TAB>text`` rows (the format of :mod:`phonasr.batching.pairs`). What cannot be
paired is written to a rejects file (columns of :mod:`phonasr.data.rejects`, the pair file's name as the split)
and counted in the log, never dropped silently; :func:`write_pairs` is shared with the G2P n-bests of
:mod:`phonasr.decode.g2p`.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from phonasr.data.rejects import RejectLog
from phonasr.decode.outputs import NBestEntry, read_hypotheses
from phonasr.decode.references import cut_texts
from phonasr.utils.io import atomic_write_text

logger = logging.getLogger(__name__)


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


def write_pairs(out: Path, rows: Sequence[str], rejects: RejectLog, rejects_path: Path, no_rows_error: str) -> None:
    """The rejects file (always, so a rerun never leaves a stale one), then the pair file; no rows at all is the
    ValueError ``no_rows_error``."""
    atomic_write_text(rejects_path, rejects.to_tsv())
    log_rejects(rejects, out.name, rejects_path)
    if not rows:
        raise ValueError(no_rows_error)
    atomic_write_text(out, "".join(f"{row}\n" for row in rows))


def pair_rows(hyps: Dict[str, List[NBestEntry]], texts: Dict[str, Tuple[str, int]], cuts_path: str, nbest: int,
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
            if not hyp.text:
                rejects.add(split, hyp.file, hyp.line, row_id, "empty_hypothesis", "the S2P output no phonemes")
                continue
            rows.append(f"{row_id}\t{hyp.text}\t{' '.join(text.split())}")
    return rows


def pairs_from_decoding(decode_dir: str, cuts_path: str, out: str | Path, nbest: int = 1,
                        rejects: Optional[str | Path] = None) -> Path:
    """Pair the S2P hypotheses of ``decode_dir`` (the 1-best of hyp.txt for ``nbest`` 1, row id ``utt_id``; else
    up to ``nbest`` of nbest.txt, row ids ``utt_id-rank``) with the supervision.text of the cuts of ``cuts_path``
    into ``out``. A pair with no phonemes or no text, and a cut the decoding missed, are rejects; a hypothesis of an
    utterance the manifest lacks is an error (the two do not belong together). Returns the rejects file."""
    out = Path(out)
    rejects_path = Path(rejects) if rejects else default_rejects_path(out)
    hyps = read_hypotheses(decode_dir, nbest)
    texts = cut_texts(cuts_path)
    rejected = RejectLog()
    rows = pair_rows(hyps, texts, cuts_path, nbest, rejected, out.name)
    write_pairs(out, rows, rejected, rejects_path,
                f"no pairs: all {len(texts)} cuts of {cuts_path} were rejected (see {rejects_path})")
    logger.info("wrote %d pairs (up to %d per cut of %d, %d rejected items) to %s", len(rows), nbest, len(texts),
                rejected.count(out.name), out)
    return rejects_path
