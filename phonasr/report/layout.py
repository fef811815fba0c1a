"""Which system of ``exp/results.tsv`` fills which cell of the report: data, so a new system is one line here.

A row of the paper's table is one model family; its columns are the ways of reading it out: the S2P's phoneme
error rate (PER), and the word error rate without an LM, with the word LM (WFST) and with marginal-likelihood
scoring (MLS). Each column names the system whose row in results.tsv fills it, or None (printed "–").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

COLUMNS = ("PER", "no LM", "LM", "MLS")


@dataclass(frozen=True)
class TableRow:
    label: str
    per: Optional[str] = None
    no_lm: Optional[str] = None
    lm: Optional[str] = None
    mls: Optional[str] = None
    paper: Optional[str] = None  # key into phonasr.report.paper's figures
    ours: bool = False  # a row the paper does not have

    def systems(self) -> Tuple[Optional[str], Optional[str], Optional[str], Optional[str]]:
        """The systems of :data:`COLUMNS`, in that order."""
        return self.per, self.no_lm, self.lm, self.mls


MAIN_ROWS: Tuple[TableRow, ...] = (
    TableRow("Whistle phoneme FT (full data, lexicon)", per="s2p_ft_phone_full", lm="s2p_ft_phone_full_lexicon_lm",
             paper="phoneme_ft"),
    TableRow("subword FT", no_lm="s2p_ft_text", lm="s2p_ft_text_lm", paper="subword_ft"),
    TableRow("SPG init", per="spg_init", no_lm="spg_init", lm="spg_init_lm", mls="spg_init_mls", paper="spg_init"),
    TableRow("JSA-SPG", per="jsa", no_lm="jsa", lm="jsa_lm", mls="jsa_mls", paper="jsa"),
    TableRow("JSA-SPG + aug", per="jsa_aug", no_lm="jsa_aug", lm="jsa_aug_lm", mls="jsa_aug_mls", paper="jsa_aug"),
    TableRow("JSA S2P → lexicon-free phone HLG", lm="jsa_phone_g2p_lm", mls="jsa_phone_g2p_mls", ours=True),
    # the ceiling of the S2P -> P2G rows: the augmented P2G reading the true phonemes (PER 0)
    TableRow("oracle: true phonemes → JSA-SPG + aug P2G", no_lm="oracle_phonemes_p2g", ours=True),
)

DOMAIN_ROWS: Tuple[TableRow, ...] = (
    TableRow("subword FT (+ adaptation LM)", no_lm="s2p_ft_text", lm="s2p_ft_text_lda_lm", paper="subword_ft"),
    TableRow("JSA-SPG + LDA", no_lm="jsa_lda", lm="jsa_lda_lm", mls="jsa_lda_mls", paper="jsa_lda"),
)
DOMAIN_SYSTEM_PREFIX = "jsa_lda"  # its test sets are the domain-adaptation table's, with any "other" set
OTHER_DOMAIN_MARK = "other"  # a test set whose name holds it is other-domain text

CONTROL_PREFIX = "control_"

HEADLINE_PAIRS: Tuple[Tuple[str, str], ...] = (  # (A = baseline, B = ours), WER on the report's test set
    ("s2p_ft_text_lm", "jsa_aug_mls"),
    ("s2p_ft_text", "jsa_aug"),
)

DOMAIN_PAIRS: Tuple[Tuple[str, str], ...] = (  # the paper's LDA comparison, WER on every other-domain test set:
    ("s2p_ft_text_lda_lm", "jsa_lda_mls"),     # subword FT + the adaptation LM vs JSA-SPG + LDA + MLS
    ("s2p_ft_text_lda_lm", "jsa_lda_lm"),      # ... vs JSA-SPG + LDA through the adaptation LM's TLG
)

# The word n-grams' perplexity (PPL) and OOV rate rows: system -> what the LM was trained on
LM_SYSTEMS: Dict[str, str] = {"lm": "the training transcripts",
                              "lm_lda": "the training transcripts + the adaptation text (LDA comparison)"}

_DECODER_SUFFIXES = (("_mls", "mls"), ("_lm", "lm"))


def rows_by_family(systems: Iterable[str]) -> List[TableRow]:
    """One row per family of systems named ``X``, ``X_lm``, ``X_mls`` (the recipe's naming): the controls, and
    systems on other-domain sets that no fixed row names. ``X`` fills PER and no LM (whichever it scored)."""
    families: Dict[str, Dict[str, str]] = {}
    for system in systems:
        base, field = system, "no_lm"
        for suffix, decoder in _DECODER_SUFFIXES:
            if system.endswith(suffix):
                base, field = system[: -len(suffix)], decoder
                break
        families.setdefault(base, {})[field] = system
    return [TableRow(base, per=fields.get("no_lm"), no_lm=fields.get("no_lm"), lm=fields.get("lm"),
                     mls=fields.get("mls"))
            for base, fields in families.items()]


def named_systems(rows: Iterable[TableRow]) -> List[str]:
    return list(dict.fromkeys(s for row in rows for s in row.systems() if s))
