"""An encoder plus a linear CTC output layer: the one model shape of S2P, subword CTC, P2G and G2P."""
from __future__ import annotations

from typing import Tuple

import torch
from torch import nn


class CtcModel(nn.Module):
    """``model(inputs, lengths) -> (log_probs (B, T', V), out_lengths (B,))``; id 0 of the V outputs is blank.

    Log-probabilities are always float32, also under mixed precision: CTC sums hundreds of them.

    The output layer is the attribute ``output`` so crosslingual fine-tuning can swap it
    (:func:`phonasr.models.remap.remap_output_layer`) without knowing the encoder type.
    """

    def __init__(self, encoder: nn.Module, vocab_size: int) -> None:
        super().__init__()
        if vocab_size < 2:
            raise ValueError(f"a CTC model needs blank plus at least one symbol, got vocab_size {vocab_size}")
        self.encoder = encoder
        self.output = nn.Linear(encoder.d_model, vocab_size)

    @property
    def vocab_size(self) -> int:
        return self.output.out_features

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        hidden, out_lengths = self.encoder(inputs, lengths)
        return torch.log_softmax(self.output(hidden).float(), dim=-1), out_lengths
