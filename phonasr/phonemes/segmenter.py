"""Longest-match segmentation of IPA strings into inventory units.

The ground-truth phonemes of the synthetic corpus and every espeak-ng pronunciation are plain IPA strings; the
models need one token per unit, and some units span several code points (``tɕ``, ``ɲʲ``, ``aː``). Input and units
are normalised the same way (:func:`phonasr.phonemes.ipa.normalise_ipa`), then each word is cut greedily into the
longest unit that matches. Spaces (word boundaries) separate words but do not become units.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Optional

from phonasr.phonemes.inventory import INVENTORY_DIR, load_inventory
from phonasr.phonemes.ipa import STRIP_LENGTH, is_modifier, normalise_ipa


class UnknownPhonemeError(ValueError):
    """An IPA string holds a symbol that no unit of the inventory starts with."""

    def __init__(self, symbol: str, position: int, ipa: str, normalised: str) -> None:
        self.symbol = symbol
        self.position = position
        self.ipa = ipa
        super().__init__(
            f"unknown phoneme symbol {symbol!r} (U+{ord(symbol[0]):04X}) at position {position} of the normalised "
            f"string {normalised!r} (input {ipa!r}); add it to the inventory "
            "(python -m phonasr.phonemes.build_inventory) or fix the pronunciation")


class IpaSegmenter:
    """Cut IPA strings into units of a fixed inventory by longest match."""

    def __init__(self, units: Iterable[str], strip_marks: bool = True, strip_length: bool = STRIP_LENGTH) -> None:
        self.strip_marks = strip_marks
        self.strip_length = strip_length
        normalised = {self.normalise(u) for u in units}
        bad = sorted(u for u in normalised if not u or " " in u)
        if bad:
            raise ValueError(f"inventory units must be non-empty and contain no spaces after normalisation: {bad}")
        self.units = sorted(normalised)
        self._unit_set = frozenset(normalised)
        self._max_len = max((len(u) for u in normalised), default=0)

    @classmethod
    def for_language(cls, lang: str, strip_length: bool = STRIP_LENGTH,
                     inventory_dir: Path = INVENTORY_DIR) -> IpaSegmenter:
        """The segmenter of ``lang``'s inventory (its base language's for ``sv-SE``); inventory and input follow
        the same length convention, so ``units`` are exactly the tokens a segmentation can produce."""
        return cls(load_inventory(lang, inventory_dir, strip_length), strip_length=strip_length)

    def normalise(self, ipa: str) -> str:
        return normalise_ipa(ipa, strip_marks=self.strip_marks, strip_length=self.strip_length)

    def segment(self, ipa: str) -> List[str]:
        """The units of ``ipa`` in order; raises :class:`UnknownPhonemeError` on a symbol outside the inventory."""
        text = self.normalise(ipa)
        units: List[str] = []
        pos = 0
        while pos < len(text):
            if text[pos] == " ":
                pos += 1
                continue
            unit = self._longest_unit_at(text, pos)
            if unit is None:
                raise UnknownPhonemeError(self._symbol_at(text, pos), pos, ipa, text)
            units.append(unit)
            pos += len(unit)
        return units

    def _longest_unit_at(self, text: str, pos: int) -> Optional[str]:
        """The longest unit starting at ``pos`` that does not end inside a letter, i.e. leaves no diacritic of
        its last letter behind: "ts" must not match in "tsʲ" when "t" + "sʲ" is the segmentation."""
        for end in range(min(pos + self._max_len, len(text)), pos, -1):
            if text[pos:end] in self._unit_set and (end == len(text) or not is_modifier(text[end])):
                return text[pos:end]
        return None

    @staticmethod
    def _symbol_at(text: str, pos: int) -> str:
        """The letter at ``pos`` with its modifiers: what the error message should name."""
        end = pos + 1
        while end < len(text) and is_modifier(text[end]):
            end += 1
        return text[pos:end]
