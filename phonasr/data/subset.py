"""Choose the small phoneme-labelled subset (~10 minutes) of a training set, covering the target phonemes.

The paper labels about 100 utterances so that every phoneme of the target language occurs, favouring those the
multilingual model never or rarely saw in pretraining (Polish dʑ tɕ dʐ tʂ ŋ dz ʑ f; Indonesian q ʃ ɣ z v x).
Here that is a deterministic greedy weighted coverage:

* every phoneme ``p`` occurring in the pool has a target count, raised in rounds: round 0 asks for one
  occurrence of every phoneme (coverage comes first), round ``r >= 1`` for ``min(count in pool, r * step)`` where
  step is ``priority_min_count`` for priority phonemes and ``min_count`` otherwise, so later rounds add priority
  phonemes faster while keeping the rest balanced;
* each step adds the cut with the largest gain ``sum_p weight(p) * min(count in cut, still missing)``, per second
  of audio when the budget is in minutes (short, dense utterances), per cut when it is a count; ties go to the
  smaller cut id; cuts that no longer fit the budget are skipped;
* it stops when the budget is used or no cut adds anything.

Phonemes come from ``supervision.custom["phones"]`` (ground truth of the synthetic corpus) or, where missing,
from a pronunciation source (lexicon or espeak-ng). Cuts that cannot be pronounced are left out of the pool and
reported with the reason; lexicon words without a pronunciation are counted.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from lhotse import CutSet
from lhotse.cut import Cut
from lhotse.utils import fastcopy

from phonasr.phonemes import MissingPronunciationError, UnknownPhonemeError
from phonasr.phonemes.pronouncer import Pronouncer
from phonasr.text.normalise import base_language

logger = logging.getLogger(__name__)

# The paper's priority phonemes (Whistle lexicon spelling), and how espeak-ng 1.51 spells the same phonemes.
PAPER_PRIORITY: Dict[str, List[str]] = {
    "pl": ["dʑ", "tɕ", "dʐ", "tʂ", "ŋ", "dz", "ʑ", "f"],
    "id": ["q", "ʃ", "ɣ", "z", "v", "x"],
}
ESPEAK_SPELLING: Dict[str, Dict[str, str]] = {
    "pl": {"dʐ": "dʒ", "tʂ": "tʃ"},  # espeak-ng writes Polish dż/cz as postalveolar; it reads dz as dʑ (no unit)
    "id": {"ʃ": "ç"},  # Indonesian sy; espeak-ng reads q as k and gh as ɡh, so those have no unit
}


@dataclass
class SubsetConfig:
    minutes: Optional[float] = 10.0  # budget in minutes of audio; or
    count: Optional[int] = None  # budget in cuts (exactly one of the two)
    priority: Sequence[str] = ()  # inventory units to favour
    priority_weight: float = 10.0
    min_count: int = 1
    priority_min_count: int = 5

    def __post_init__(self) -> None:
        if (self.minutes is None) == (self.count is None):
            raise ValueError("give exactly one budget: minutes or count")
        if (self.minutes is not None and self.minutes <= 0) or (self.count is not None and self.count <= 0):
            raise ValueError(f"the budget must be positive, got minutes={self.minutes} count={self.count}")
        if self.min_count < 1 or self.priority_min_count < 1 or self.priority_weight <= 0:
            raise ValueError("min_count and priority_min_count must be >= 1 and priority_weight > 0")


@dataclass
class CoverageRow:
    phoneme: str
    subset: int
    full: int
    priority: bool


@dataclass
class SubsetResult:
    cuts: CutSet  # the selected cuts in selection order, each with supervision.custom["phones"]
    coverage: List[CoverageRow]
    rejected: List[Tuple[str, str]] = field(default_factory=list)  # (cut id, reason)
    missing_words: Counter = field(default_factory=Counter)
    unresolved_priority: List[str] = field(default_factory=list)

    @property
    def minutes(self) -> float:
        return sum(c.duration for c in self.cuts) / 60.0


def resolve_priority(lang: str, inventory: Sequence[str], requested: Optional[Sequence[str]] = None,
                     ) -> Tuple[List[str], List[str]]:
    """Priority phonemes as inventory units: (resolved, not in the inventory). Default: the paper's list (of the
    base language for a regional code such as ``pl-PL``)."""
    wanted = list(requested) if requested is not None else PAPER_PRIORITY.get(base_language(lang), [])
    spelling = ESPEAK_SPELLING.get(base_language(lang), {})
    units = set(inventory)
    resolved: List[str] = []
    unresolved: List[str] = []
    for phoneme in wanted:
        unit = phoneme if phoneme in units else spelling.get(phoneme, phoneme)
        if unit not in units:
            unresolved.append(phoneme)
        elif unit not in resolved:
            resolved.append(unit)
    return resolved, unresolved


def cut_phones(cuts: CutSet, inventory: Sequence[str], pronouncer: Optional[Pronouncer] = None) -> Tuple[
        Dict[str, List[str]], List[Tuple[str, str]], Counter]:
    """Phonemes of every cut: from the manifest, else from ``pronouncer`` (``.pronounce(text) -> units``).

    Returns (cut id -> units, rejected (cut id, reason), missing word -> count)."""
    units = set(inventory)
    phones: Dict[str, List[str]] = {}
    rejected: List[Tuple[str, str]] = []
    missing: Counter = Counter()
    for cut in cuts:
        if len(cut.supervisions) != 1:
            rejected.append((cut.id, f"has {len(cut.supervisions)} supervisions, expected 1"))
            continue
        sup = cut.supervisions[0]
        custom = sup.custom or {}
        if "phones" in custom:
            seq = str(custom["phones"]).split()
            unknown = sorted(set(seq) - units)
            if unknown:
                rejected.append((cut.id, f"manifest phones outside the inventory: {' '.join(unknown)}"))
                continue
        elif pronouncer is None:
            rejected.append((cut.id, "no phones in the manifest and no pronunciation source given"))
            continue
        else:
            try:
                seq = pronouncer.pronounce(sup.text or "")
            except MissingPronunciationError as e:
                missing.update(e.words)
                rejected.append((cut.id, f"no pronunciation for: {' '.join(e.words)}"))
                continue
            except UnknownPhonemeError as e:
                rejected.append((cut.id, str(e)))
                continue
        if not seq:
            rejected.append((cut.id, "empty phoneme sequence"))
            continue
        phones[cut.id] = seq
    return phones, rejected, missing


def greedy_select(phones: Mapping[str, Sequence[str]], durations: Mapping[str, float], config: SubsetConfig,
                  ) -> List[str]:
    """Ids of the chosen cuts in selection order (see the module docstring for the rule)."""
    ids = sorted(phones)
    if not ids:
        return []
    units = sorted({u for seq in phones.values() for u in seq})
    column = {u: j for j, u in enumerate(units)}
    counts = np.zeros((len(ids), len(units)), dtype=np.int64)
    for i, cut_id in enumerate(ids):
        for unit, n in Counter(phones[cut_id]).items():
            counts[i, column[unit]] = n
    seconds = np.array([durations[c] for c in ids], dtype=np.float64)
    priority = np.array([u in set(config.priority) for u in units])
    weight = np.where(priority, config.priority_weight, 1.0)
    step = np.where(priority, config.priority_min_count, config.min_count)
    full = counts.sum(axis=0)

    budget = config.minutes * 60.0 if config.minutes is not None else float(config.count)
    cost = np.maximum(seconds, 1e-3) if config.minutes is not None else np.ones(len(ids))
    available = np.ones(len(ids), dtype=bool)
    have = np.zeros(len(units), dtype=np.int64)
    chosen: List[str] = []
    round_ = 0
    while True:
        available &= cost <= budget + 1e-9
        if not available.any():
            break
        deficit = np.maximum(np.minimum(full, round_ * step if round_ else 1) - have, 0)
        gain = (np.minimum(counts, deficit) * weight).sum(axis=1)
        gain = np.where(available, gain / cost, -1.0)
        best = int(np.argmax(gain))  # first maximum = smallest id among ties
        if gain[best] > 0:
            chosen.append(ids[best])
            have += counts[best]
            budget -= cost[best]
            available[best] = False
            continue
        # Nothing left adds to this round's targets: jump to the first round in which a remaining cut does.
        present = counts[available].any(axis=0)
        round_ = max(round_ + 1, int((have[present] // step[present]).min()) + 1)
    return chosen


def coverage_rows(phones: Mapping[str, Sequence[str]], chosen: Sequence[str], inventory: Sequence[str],
                  priority: Sequence[str]) -> List[CoverageRow]:
    """One row per inventory unit: priority first, then by count in the full pool (descending), then unit."""
    full = Counter(u for seq in phones.values() for u in seq)
    subset = Counter(u for cut_id in chosen for u in phones[cut_id])
    rows = [CoverageRow(u, subset[u], full[u], u in priority) for u in inventory]
    return sorted(rows, key=lambda r: (not r.priority, -r.full, r.phoneme))


def format_coverage(result: SubsetResult) -> str:
    covered = [r for r in result.coverage if r.full > 0]
    lines = [f"# {len(result.cuts)} cuts, {result.minutes:.2f} minutes; "
             f"{sum(r.subset > 0 for r in covered)} of {len(covered)} phonemes seen in the pool are covered",
             f"{'phoneme':<10}{'subset':>8}{'full':>10}  priority"]
    lines += [f"{r.phoneme:<10}{r.subset:>8}{r.full:>10}  {'yes' if r.priority else '-'}" for r in result.coverage]
    if result.unresolved_priority:
        lines.append(f"# priority phonemes with no unit in the inventory: {' '.join(result.unresolved_priority)}")
    return "\n".join(lines) + "\n"


def with_phones(cut: Cut, units: Sequence[str]) -> Cut:
    sup = cut.supervisions[0]
    sup = fastcopy(sup, custom={**(sup.custom or {}), "phones": " ".join(units)})
    return fastcopy(cut, supervisions=[sup])


def select_labelled_subset(cuts: CutSet, lang: str, inventory: Sequence[str], config: SubsetConfig,
                           pronouncer: Optional[Pronouncer] = None, unresolved_priority: Sequence[str] = (),
                           ) -> SubsetResult:
    """Pick the labelled subset of ``cuts`` (see the module docstring); phonemes missing from the manifest are
    taken from ``pronouncer``. ``config.priority`` must already be inventory units (:func:`resolve_priority`)."""
    phones, rejected, missing = cut_phones(cuts, inventory, pronouncer)
    if rejected:
        logger.warning("%s: %d of %d cuts cannot be used (no phonemes); first: %s: %s", lang, len(rejected),
                       len(phones) + len(rejected), *rejected[0])
    if not phones:
        raise ValueError(f"{lang}: none of the {len(rejected)} cuts has phonemes; first problem: "
                         f"{rejected[0][0] if rejected else '-'}: {rejected[0][1] if rejected else 'no cuts'}")
    by_id = {c.id: c for c in cuts if c.id in phones}
    chosen = greedy_select(phones, {i: c.duration for i, c in by_id.items()}, config)
    subset = CutSet.from_cuts(with_phones(by_id[i], phones[i]) for i in chosen)
    result = SubsetResult(subset, coverage_rows(phones, chosen, inventory, config.priority), rejected, missing,
                          list(unresolved_priority))
    uncovered = [r.phoneme for r in result.coverage if r.full > 0 and r.subset == 0]
    if uncovered:
        logger.warning("%s: the budget left %d phonemes of the pool uncovered: %s", lang, len(uncovered),
                       " ".join(uncovered))
    absent = [r.phoneme for r in result.coverage if r.priority and r.full == 0]
    if absent:
        logger.warning("%s: priority phonemes never occur in the pool: %s", lang, " ".join(absent))
    return result
