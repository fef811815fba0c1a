"""Re-map a CTC output layer onto another symbol inventory (crosslingual fine-tuning of a multilingual S2P).

Rows of symbols that both inventories share (by name) keep what pretraining learnt; blank is id 0 in every
phonasr tokenizer and is always carried over, whatever its name. Symbols new to the model start either from the
mean of the old non-blank rows (``mean``: an "average symbol", close to what the encoder already emits, so
fine-tuning starts from a sensible posterior) or from the default initialisation of a fresh linear layer
(``random``). Blank stays out of the mean: CTC trains its row to win on most frames, and a new symbol that
inherits part of it would start out firing on silence and between phonemes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import torch
from torch import nn

NEW_ROW_INITS = ("mean", "random")


@dataclass
class RemapReport:
    """Which target symbols were copied from the old layer, which start fresh, which old ones were dropped."""

    copied: List[str]
    new: List[str]
    dropped: List[str]

    def summary(self) -> str:
        return (f"output layer re-mapped: {len(self.copied)} symbols copied, {len(self.new)} new"
                f"{' (' + ' '.join(self.new) + ')' if self.new else ''}, {len(self.dropped)} old symbols dropped")


def remap_output_layer(model: nn.Module, old_symbols: Sequence[str], new_symbols: Sequence[str],
                       init: str = "mean") -> RemapReport:
    """Replace ``model.output`` (a Linear over ``old_symbols``) by one over ``new_symbols``, in place; ``init``
    (one of :data:`NEW_ROW_INITS`) sets the rows of symbols ``old_symbols`` lacks."""
    if init not in NEW_ROW_INITS:
        raise ValueError(f"init must be one of {', '.join(NEW_ROW_INITS)}, got {init!r}")
    old: nn.Linear = model.output
    if old.out_features != len(old_symbols):
        raise ValueError(f"the model's output layer has {old.out_features} rows but {len(old_symbols)} old symbols "
                         "were given; pass the symbol table the model was trained with")
    for name, symbols in (("old", old_symbols), ("new", new_symbols)):
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"the {name} symbol list has duplicates")
    old_index = {s: i for i, s in enumerate(old_symbols)}
    old_index[new_symbols[0]] = 0  # blank is id 0 on both sides

    new = nn.Linear(old.in_features, len(new_symbols), bias=old.bias is not None,
                    device=old.weight.device, dtype=old.weight.dtype)
    copied: List[str] = []
    fresh: List[str] = []
    with torch.no_grad():
        for j, symbol in enumerate(new_symbols):
            i = old_index.get(symbol)
            if i is not None:
                new.weight[j] = old.weight[i]
                if old.bias is not None:
                    new.bias[j] = old.bias[i]
                copied.append(symbol)
                continue
            fresh.append(symbol)
            if init == "mean":
                new.weight[j] = old.weight[1:].mean(dim=0)  # row 0 is blank
                if old.bias is not None:
                    new.bias[j] = old.bias[1:].mean()
    kept = set(copied) | {old_symbols[0]}
    dropped = [s for s in old_symbols if s not in kept]
    model.output = new
    return RemapReport(copied=copied, new=fresh, dropped=dropped)
