"""LM weights chosen on dev and applied to the test sets, by re-ranking saved n-best lists (no decoding again).

Both LM decoders leave, beside their nbest.txt, the two parts of every hypothesis' score:

    WFST (steps/decode_wfst.sh)  costs.txt       utt rank graph_cost acoustic_cost   score = -(acoustic + w·graph)
    MLS  (steps/mls_rescore.sh)  mls_scores.txt  utt rank log p(y|x) LM log-prob     score = log p(y|x) + w·LM

so each is ``base + w · lm`` for one weight w. :func:`sweep` scores every weight of a grid on the dev set and picks
the lowest error rate (the smallest weight among ties, the least LM-dependent choice); :func:`apply_weight` writes
a decode dir of the re-ranked hypotheses of any set at that weight, for steps/score.sh. The test sets are never
looked at while choosing.

Re-ranking reorders only the n-best the decoder kept: a weight far from the one the WFST search ran with could
have found hypotheses outside it, which is why the search keeps a wide n-best (64 by default).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

from phonasr.decode.mls import SCORES as MLS_SCORES
from phonasr.decode.outputs import NBEST, DecodedUtterance, Scored, read_hypotheses, write_decode_dir
from phonasr.decode.wfst_dir import COSTS
from phonasr.scoring.error_rate import score_texts
from phonasr.utils.io import atomic_write_text

KINDS = {"wfst": COSTS, "mls": MLS_SCORES}


@dataclass(frozen=True)
class Candidate:
    """One n-best hypothesis split into the score that does not depend on the LM weight and the part that does."""

    text: str
    base: float
    lm: float

    def score(self, weight: float) -> float:
        """base + weight·lm; a failed decoding's -inf parts stay -inf at weight 0 (not NaN)."""
        return self.base + (weight * self.lm if weight else 0.0)


def _parts(kind: str, first: float, second: float) -> Tuple[float, float]:
    """(base, lm) of a score line: WFST costs are negated log-probabilities (graph first); MLS holds log-probs."""
    return (-second, -first) if kind == "wfst" else (first, second)


def read_candidates(decode_dir: str | Path, kind: str) -> Dict[str, List[Candidate]]:
    """Utterance -> its n-best with split scores, from nbest.txt and the score file of ``kind`` (wfst|mls)."""
    if kind not in KINDS:
        raise ValueError(f"unknown score kind '{kind}'; choose from {', '.join(KINDS)}")
    decode_dir = Path(decode_dir)
    path = decode_dir / KINDS[kind]
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; {decode_dir} is not a {kind.upper()} decoding")
    parts: Dict[Tuple[str, int], Tuple[float, float]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("\t")
        try:
            parts[fields[0], int(fields[1])] = _parts(kind, float(fields[2]), float(fields[3]))
        except (IndexError, ValueError):
            raise ValueError(f"{path}:{lineno}: expected utt<TAB>rank<TAB>number<TAB>number, got {line[:80]!r}") \
                from None
    if not parts:
        raise ValueError(f"{path} is empty: the decoding wrote no hypotheses")
    hyps = read_hypotheses(decode_dir, nbest=max(rank for _, rank in parts))
    candidates: Dict[str, List[Candidate]] = {}
    for utt, entries in hyps.items():
        for entry in entries:
            if (utt, entry.rank) not in parts:
                raise ValueError(f"{decode_dir / NBEST}: '{utt}' rank {entry.rank} has no line in {path}")
            candidates.setdefault(utt, []).append(Candidate(entry.text, *parts[utt, entry.rank]))
    return candidates


def best_texts(candidates: Mapping[str, Sequence[Candidate]], weight: float) -> Dict[str, str]:
    """Each utterance's best hypothesis at ``weight`` (the earlier rank among equal scores)."""
    return {utt: max(enumerate(c), key=lambda ic: (ic[1].score(weight), -ic[0]))[1].text
            for utt, c in candidates.items()}


@dataclass(frozen=True)
class SweepPoint:
    weight: float
    error_rate: float
    errors: int
    total: int


def sweep(candidates: Mapping[str, Sequence[Candidate]], refs: Mapping[str, str], weights: Sequence[float],
          metric: str = "wer") -> List[SweepPoint]:
    """The error rate of the re-ranked 1-best at every weight (in the order given)."""
    if not weights:
        raise ValueError("no LM weights to sweep")
    points = []
    for w in weights:
        counts = score_texts(refs, best_texts(candidates, w), metric).counts
        points.append(SweepPoint(w, counts.rate, counts.errors, counts.ref_len))
    return points


def choose(points: Sequence[SweepPoint]) -> SweepPoint:
    """The lowest error rate; among equal ones the smallest weight."""
    return min(points, key=lambda p: (p.errors, p.weight))


def apply_weight(candidates: Mapping[str, Sequence[Candidate]], refs: Mapping[str, str], weight: float,
                 out_dir: str | Path) -> None:
    """A decode dir (hyp, ref, nbest) of ``candidates`` (:func:`read_candidates`) re-ranked at ``weight``."""
    decoded = []
    for utt in sorted(candidates):
        ranked = sorted(candidates[utt], key=lambda c: -c.score(weight))  # stable: ties keep their rank
        decoded.append(DecodedUtterance(utt, refs[utt], [Scored(c.text, c.score(weight)) for c in ranked]))
    write_decode_dir(out_dir, decoded)


def write_sweep(points: Sequence[SweepPoint], chosen: SweepPoint, out_dir: str | Path, title: str,
                metric: str = "wer") -> None:
    """sweep.tsv (weight, dev error rate, errors, total; the chosen row marked) and sweep.png."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"weight\tdev_{metric}\terrors\ttotal\tchosen"]
    lines += [f"{p.weight:g}\t{p.error_rate:.2f}\t{p.errors}\t{p.total}\t{'*' if p == chosen else ''}"
              for p in points]
    atomic_write_text(out_dir / "sweep.tsv", "\n".join(lines) + "\n")
    _plot(points, chosen, out_dir / "sweep.png", title, metric)


def _plot(points: Sequence[SweepPoint], chosen: SweepPoint, path: Path, title: str, metric: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([p.weight for p in points], [p.error_rate for p in points], marker="o")
    ax.plot([chosen.weight], [chosen.error_rate], marker="*", markersize=14, color="tab:red",
            label=f"chosen {chosen.weight:g}: {chosen.error_rate:.2f}")
    ax.set_xlabel("LM weight")
    ax.set_ylabel(f"dev {metric.upper()} (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
