"""sclite-like error details: per-utterance aligned REF/HYP/Eval lines, then the most frequent confusions.

Columns are padded by display width (combining marks such as the tie bar in t͡ɕ take no space, wide
characters take two), so IPA and non-Latin scripts stay aligned. Errors are marked on an ``Eval`` line
(S, D, I) instead of by upper-casing as sclite does, because upper-casing changes IPA symbols.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

from phonasr.scoring.error_rate import EPS, CorpusScore, ErrorCounts, UttAlignment
from phonasr.utils.io import atomic_write_text

GAP = "***"
ID_PREFIX = "id: ("
SCORES_PREFIX = "Scores: (#C #S #D #I) "
SUBSTITUTIONS_TITLE = "SUBSTITUTIONS: count ref -> hyp"


def display_width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def format_utterance(utt: UttAlignment) -> str:
    """One sclite-style block: id, scores ``(#C #S #D #I)``, aligned REF, HYP and Eval lines."""
    refs, hyps, marks = [], [], []
    for r, h in utt.pairs:
        ref_tok, hyp_tok = (GAP if r == EPS else r), (GAP if h == EPS else h)
        mark = "I" if r == EPS else "D" if h == EPS else "S" if r != h else ""
        width = max(display_width(ref_tok), display_width(hyp_tok))
        refs.append(_pad(ref_tok, width))
        hyps.append(_pad(hyp_tok, width))
        marks.append(_pad(mark, width))
    c = utt.counts
    note = "  (no hypothesis: scored as all deletions)" if utt.missing_hyp else ""
    return (f"{ID_PREFIX}{utt.utt_id}){note}\n"
            f"{SCORES_PREFIX}{c.correct} {c.subs} {c.dels} {c.ins}\n"
            f"REF:  {' '.join(refs).rstrip()}\n"
            f"HYP:  {' '.join(hyps).rstrip()}\n"
            f"Eval: {' '.join(marks).rstrip()}\n")


def confusions(score: CorpusScore) -> Tuple[Counter, Counter, Counter]:
    """Counters of substitutions ``(ref, hyp)``, deletions ``ref`` and insertions ``hyp`` over the corpus."""
    subs: Counter = Counter()
    dels: Counter = Counter()
    ins: Counter = Counter()
    for utt in score.utts:
        for r, h in utt.pairs:
            if r == EPS:
                ins[h] += 1
            elif h == EPS:
                dels[r] += 1
            elif r != h:
                subs[(r, h)] += 1
    return subs, dels, ins


def _ranked(counter: Counter) -> List[Tuple[object, int]]:
    """Most frequent first; ties in a fixed (sorted) order so reruns write identical files."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def _section(title: str, rows: Iterable[str]) -> str:
    rows = list(rows)
    return f"{title}\n" + ("".join(f"{row}\n" for row in rows) if rows else "  (none)\n")


def format_details(score: CorpusScore, name: str) -> str:
    counts, unit = score.counts, {"wer": "words", "cer": "characters", "per": "phonemes"}[score.metric]
    missing = score.missing
    header = (f"{counts.summary_line(score.metric)}\n"
              f"Scored {len(score.utts)} utterances of {name}: {counts.ref_len} reference {unit}, "
              f"{counts.correct} correct, {counts.subs} substitutions, {counts.dels} deletions, "
              f"{counts.ins} insertions.\n"
              f"Utterances without a hypothesis (scored as all deletions): {len(missing)}\n"
              "Sections: PER-UTTERANCE DETAILS, SUBSTITUTIONS, DELETIONS, INSERTIONS, MISSING HYPOTHESES.\n")
    subs, dels, ins = confusions(score)
    return "\n".join([
        header,
        _section("PER-UTTERANCE DETAILS:", (format_utterance(u) for u in score.utts)),
        _section(SUBSTITUTIONS_TITLE, (f"{n:6d}  {r} -> {h}" for (r, h), n in _ranked(subs))),
        _section("DELETIONS: count ref", (f"{n:6d}  {r}" for r, n in _ranked(dels))),
        _section("INSERTIONS: count hyp", (f"{n:6d}  {h}" for h, n in _ranked(ins))),
        _section("MISSING HYPOTHESES:", missing),
    ])


def write_details(path: str | Path, score: CorpusScore, name: str) -> None:
    atomic_write_text(path, format_details(score, name))


def read_utterance_counts(path: str | Path) -> Dict[str, ErrorCounts]:
    """Per-utterance error counts back from a details file of :func:`write_details`, in file order.

    Paired significance tests need errors per utterance; the details file is the one record of them that every
    scored decoding keeps, so it is read here, beside its writer, rather than re-scored.
    """
    counts: Dict[str, ErrorCounts] = {}
    utt = None
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line == SUBSTITUTIONS_TITLE:
            break
        if line.startswith(ID_PREFIX):
            utt = line[len(ID_PREFIX):].split(")", 1)[0]
        elif line.startswith(SCORES_PREFIX):
            try:
                correct, subs, dels, ins = (int(n) for n in line[len(SCORES_PREFIX):].split())
            except ValueError:
                raise ValueError(f"{path}:{lineno}: expected '{SCORES_PREFIX}C S D I', got {line!r}") from None
            if utt is None:
                raise ValueError(f"{path}:{lineno}: a Scores line before any '{ID_PREFIX}UTT)' line")
            counts[utt] = ErrorCounts(ref_len=correct + subs + dels, ins=ins, dels=dels, subs=subs)
            utt = None
    if not counts:
        raise ValueError(f"{path} holds no per-utterance scores: not a phonasr details file (errs-*.txt)")
    return counts
