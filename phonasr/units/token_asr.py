"""Discrete-token ASR (seed 003): k-means unit sequences as the input tokens of the token CTC task.

The token task (:mod:`phonasr.train.token_task`) already trains a Transformer CTC model from TSV pair files and
:mod:`phonasr.decode.p2g` already decodes such a model from a decode dir of input "hypotheses". Units fit both as
they are once they look like phonemes: the unit lang dir is a phone-type lang dir whose symbols are ``u0 ..
u{k-1}`` (a :class:`PhonemeTokenizer` refuses an unknown symbol, which is right: a unit id >= k means another
k-means), and a cut's units become one space-separated line. So this module only turns a ``units`` file
(:mod:`phonasr.units.store`) into

* the unit lang dir (:func:`make_unit_lang_dir`);
* a pair file ``utt_id<TAB>u3 u17 ...<TAB>text`` for training (:func:`unit_pairs`), with the transcript as the P2G
  pairs carry it (supervision.text, whitespace-normalised) and the rejects of :mod:`phonasr.decode.pairs`;
* a decode dir of the units as 1-best "hypotheses" that the P2G decoder reads (:func:`decode_units`).

Deduplication (``dedup``) merges runs of the same unit, as seed 003 and most discrete-token work do: frames at
40 ms repeat a unit over most of a phoneme, and the runs only lengthen the input. Train and test must agree on it.
A cut whose unit sequence (times the model's ``upsample``) is shorter than CTC needs for its target cannot train
and is rejected by name when the target lang dir is given (:class:`CtcTarget`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Mapping, Optional, Tuple

import torch

from phonasr.ctc import min_ctc_frames
from phonasr.data.rejects import RejectLog
from phonasr.decode.outputs import DecodedUtterance, Scored, write_decode_dir
from phonasr.decode.p2g import decode_s2p_dir
from phonasr.decode.pairs import default_rejects_path, write_pairs
from phonasr.decode.references import cut_texts
from phonasr.tokenizers import PhonemeTokenizer, Tokenizer, load_tokenizer, save_tokenizer
from phonasr.tokenizers.lang_dir import CONFIG_FILE
from phonasr.units.store import load_units, merge_runs

logger = logging.getLogger(__name__)

UNIT_PREFIX = "u"
UNITS_SUBDIR = "units"  # the decode dir of unit "hypotheses" that decode_units leaves inside its output dir


# ------------------------------------------------------------------------------------------------- lang dir
def unit_symbols(k: int) -> List[str]:
    """``u0 .. u{k-1}``: the input symbols of a token ASR over ``k`` units (id = unit + 1, 0 is the CTC blank)."""
    if k < 1:
        raise ValueError(f"the number of units must be >= 1, got {k}")
    return [f"{UNIT_PREFIX}{i}" for i in range(k)]


def make_unit_lang_dir(k: int, lang_dir: str | Path) -> PhonemeTokenizer:
    """Write the lang dir of ``k`` units, or check that an existing one holds exactly these symbols (a token ASR
    trained on another k would read every id wrongly). Returns its tokenizer."""
    tokenizer = PhonemeTokenizer.from_units(unit_symbols(k))
    lang_dir = Path(lang_dir)
    if (lang_dir / CONFIG_FILE).is_file():
        existing = load_tokenizer(lang_dir)
        if existing.symbols != tokenizer.symbols:
            raise ValueError(f"{lang_dir} holds {existing.vocab_size - 1} other symbols, not the {k} units "
                             f"{UNIT_PREFIX}0..{UNIT_PREFIX}{k - 1}; give another --lang-dir or remove it")
        return tokenizer
    save_tokenizer(tokenizer, lang_dir)
    logger.info("wrote the lang dir of %d units to %s", k, lang_dir)
    return tokenizer


# ------------------------------------------------------------------------------------------------- units -> text
def unit_text(units: torch.Tensor, dedup: bool) -> str:
    """One cut's units as the token task reads them: space-separated ``u<id>``."""
    seq = merge_runs(units) if dedup else units
    return " ".join(f"{UNIT_PREFIX}{int(u)}" for u in seq.tolist())


def _unknown_cuts(units: Mapping[str, torch.Tensor], texts: Mapping[str, object], units_path: str | Path,
                  cuts_path: str | Path) -> None:
    extra = sorted(set(units) - set(texts))
    if extra:
        raise ValueError(f"{units_path} holds units of {len(extra)} cuts that {cuts_path} lacks (e.g. {extra[:3]}): "
                         "the units were computed from another manifest")


# ------------------------------------------------------------------------------------------------- pairs
@dataclass(frozen=True)
class CtcTarget:
    """The output side a pair must be trainable for: the target lang dir's tokenizer and the model's upsample."""

    tokenizer: Tokenizer
    upsample: int = 1

    def too_short(self, num_units: int, text: str) -> Optional[str]:
        """Why ``num_units`` inputs cannot emit ``text`` under CTC, or None when they can."""
        needed = min_ctc_frames(self.tokenizer.encode(text))
        if self.upsample * num_units >= needed:
            return None
        return f"{num_units} units x upsample {self.upsample} < the {needed} CTC frames its text needs"


@dataclass
class UnitPairStats:
    """What :func:`unit_pairs` wrote, and the length ratio that sizes the model's upsample."""

    pairs: int = 0
    frames: int = 0           # encoder frames of the paired cuts
    units: int = 0            # input tokens after deduplication (= frames without it)
    characters: int = 0       # target characters, word boundaries counted (as the char tokenizer encodes them)
    too_short: List[str] = field(default_factory=list)

    @property
    def units_per_character(self) -> float:
        return self.units / max(self.characters, 1)


def unit_pairs(units_path: str | Path, cuts_path: str | Path, out: str | Path, *, dedup: bool,
               target: Optional[CtcTarget] = None, rejects: Optional[str | Path] = None) -> UnitPairStats:
    """Pair every cut's units (deduplicated with ``dedup``) with its whitespace-normalised supervision.text into the
    pair file ``out``, one row per cut in cut-id order. Cuts without units, with empty text or empty units, and
    with ``target``, too few units for CTC, go to the rejects file (default ``out`` with ``.rejects.tsv``)."""
    out = Path(out)
    rejects_path = Path(rejects) if rejects else default_rejects_path(out)
    units, _ = load_units(units_path)
    texts = cut_texts(cuts_path)
    _unknown_cuts(units, texts, units_path, cuts_path)
    rejected, split = RejectLog(), out.name
    rows: List[str] = []
    stats = UnitPairStats()
    for utt in sorted(texts):
        text, line = " ".join(texts[utt][0].split()), texts[utt][1]
        reason = _reject_reason(utt, units, text, dedup, target)
        if reason is not None:
            rejected.add(split, cuts_path, line, utt, *reason)
            if reason[0] == "too_short_for_ctc":
                stats.too_short.append(utt)
            continue
        inputs = unit_text(units[utt], dedup)
        rows.append(f"{utt}\t{inputs}\t{text}")
        stats.pairs += 1
        stats.frames += units[utt].numel()
        stats.units += len(inputs.split())
        stats.characters += len("_".join(text.split()))
    write_pairs(out, rows, rejected, rejects_path,
                f"no pairs: all {len(texts)} cuts of {cuts_path} were rejected (see {rejects_path})")
    if stats.too_short:
        logger.warning("%d cuts have too few units for CTC against their text, left out: %s", len(stats.too_short),
                       ", ".join(stats.too_short[:10]))
    logger.info("wrote %d pairs to %s: %d frames, %d units (dedup %s), %d characters: %.2f units per character",
                stats.pairs, out, stats.frames, stats.units, dedup, stats.characters, stats.units_per_character)
    return stats


def _reject_reason(utt: str, units: Mapping[str, torch.Tensor], text: str, dedup: bool,
                   target: Optional[CtcTarget]) -> Optional[Tuple[str, str]]:
    if utt not in units:
        return "missing_units", "the units file has no units for this cut"
    if not text:
        return "empty_text", "supervision.text is empty"
    if not units[utt].numel():
        return "empty_units", "the cut has no encoder frames"
    if target is None:
        return None
    num_units = merge_runs(units[utt]).numel() if dedup else units[utt].numel()
    why = target.too_short(num_units, text)
    return None if why is None else ("too_short_for_ctc", why)


# ------------------------------------------------------------------------------------------------- decoding
def write_unit_decode_dir(units_path: str | Path, cuts_path: str | Path, out_dir: str | Path, dedup: bool) -> int:
    """The units of every cut of ``cuts_path`` as the 1-best "hypotheses" of a decode dir (references: the text),
    the input the P2G decoder reads. Every cut needs units: a test set scored on a subset would mislead. Returns
    the number of cuts."""
    units, _ = load_units(units_path)
    texts = cut_texts(cuts_path)
    _unknown_cuts(units, texts, units_path, cuts_path)
    missing = sorted(set(texts) - set(units))
    if missing:
        raise ValueError(f"{units_path} has no units for {len(missing)} cuts of {cuts_path} (e.g. {missing[:3]}); "
                         "compute the units of this whole manifest")
    decoded = [DecodedUtterance(utt, " ".join(texts[utt][0].split()), [Scored(unit_text(units[utt], dedup), 0.0)])
               for utt in sorted(texts)]
    write_decode_dir(out_dir, decoded)
    return len(decoded)


def decode_units(checkpoint: str, units_path: str | Path, cuts_path: str | Path, out_dir: str | Path, *,
                 dedup: bool, device: torch.device, model_name: Optional[str] = None,
                 input_tokenizer_dir: Optional[str] = None, output_tokenizer_dir: Optional[str] = None,
                 beam: int = 16, nbest: int = 1, max_tokens: int = 20000) -> Path:
    """Decode the units of the cuts of ``cuts_path`` with the token ASR of ``checkpoint`` into the decode dir
    ``out_dir`` (hyp/ref/nbest, references from supervision.text), through the P2G decoder: the units go first to
    ``out_dir/units`` as a decode dir of input hypotheses. ``dedup`` must be what the training pairs used."""
    units_dir = Path(out_dir) / UNITS_SUBDIR
    count = write_unit_decode_dir(units_path, cuts_path, units_dir, dedup)
    logger.info("decoding the units of %d cuts of %s (dedup %s)", count, cuts_path, dedup)
    decode_s2p_dir(checkpoint, units_dir, out_dir, device=device, model_name=model_name,
                   input_tokenizer_dir=input_tokenizer_dir, output_tokenizer_dir=output_tokenizer_dir,
                   cuts=str(cuts_path), beam=beam, nbest=nbest, max_tokens=max_tokens)
    return units_dir

