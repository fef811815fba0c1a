"""The unit language model of seed 001 (an LSTM over discrete speech units, smaller) and its sequence scores.

A sequence of k-means units ``u_1 .. u_n`` (ids ``0..k-1``, optionally with runs of repeated units merged) is read
as ``<s> u_1 .. u_n`` and predicts ``u_1 .. u_n </s>``; ``<s>`` and ``</s>`` are the ids ``k`` and ``k+1``, after
the units, so that embedding row ``u`` belongs to unit ``u`` and the k-means centroid ``u`` can initialise it
(:func:`init_from_centroids`). Padding is on the right and never read: an LSTM's outputs at valid positions do not
depend on what follows them, and the losses mask the padded positions out.

Why the embedding size is the centroids' dimension ``D`` when they initialise it (no projection): the paper puts
the centroids themselves into the embedding table; a projection to another size would start from a random linear
image of them, which is no longer "the centroids". The centroids are copied unscaled, as the paper does.

:func:`score` gives each sequence's log-probability (the sum over its predicted tokens, ``</s>`` included) and the
number of predicted tokens (``n + 1``), so a caller can compare sums (sWUGGY's score) or per-token means.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, List, Mapping, NamedTuple, Sequence, Tuple, Union

import torch
from torch import nn

from phonasr.batching.padding import pad_ids
from phonasr.models.stored import load_model_checkpoint
from phonasr.units.store import merge_runs

#: the model's name in checkpoints
MODEL_NAME = "unit_lm"
#: the checkpoint entry describing the model (plain data, written by the training task)
METADATA_KEY = "unit_lm"


@dataclasses.dataclass
class UnitLmConfig:
    """Sizes of the LSTM LM; ``num_units`` is k of the k-means that made the units."""

    num_units: int
    embed_dim: int = 128
    hidden_dim: int = 256
    num_layers: int = 2
    dropout: float = 0.1
    tie_weights: bool = False        # output layer = embedding table (needs hidden_dim == embed_dim)

    def __post_init__(self) -> None:
        if self.num_units < 1 or self.embed_dim < 1 or self.hidden_dim < 1 or self.num_layers < 1:
            raise ValueError(f"unit LM sizes must be positive: num_units {self.num_units}, embed_dim "
                             f"{self.embed_dim}, hidden_dim {self.hidden_dim}, num_layers {self.num_layers}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.tie_weights and self.hidden_dim != self.embed_dim:
            raise ValueError(f"tie_weights needs hidden_dim == embed_dim (got {self.hidden_dim} and "
                             f"{self.embed_dim}); set them equal or tie_weights: false")

    @property
    def bos(self) -> int:
        return self.num_units

    @property
    def eos(self) -> int:
        return self.num_units + 1

    @property
    def vocab_size(self) -> int:
        return self.num_units + 2


class UnitLstmLm(nn.Module):
    """Embedding -> dropout -> LSTM (``num_layers``) -> dropout -> linear over units + ``<s>``/``</s>``."""

    def __init__(self, config: UnitLmConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(config.embed_dim, config.hidden_dim, config.num_layers, batch_first=True,
                            dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.output = nn.Linear(config.hidden_dim, config.vocab_size)
        if config.tie_weights:
            self.output.weight = self.embed.weight

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, L) token ids -> (B, L, V) log-probabilities of the next token at every position."""
        hidden, _ = self.lstm(self.dropout(self.embed(inputs)))
        return torch.log_softmax(self.output(self.dropout(hidden)).float(), dim=-1)


def lm_batch(sequences: Sequence[Sequence[int]], config: UnitLmConfig) -> Dict[str, torch.Tensor]:
    """Padded ``inputs`` (``<s>`` + units), ``targets`` (units + ``</s>``) and ``lengths`` (n + 1) of a batch."""
    inputs, lengths = pad_ids([[config.bos, *seq] for seq in sequences])
    targets, _ = pad_ids([[*seq, config.eos] for seq in sequences])
    return {"inputs": inputs, "targets": targets, "lengths": lengths}


class TokenScores(NamedTuple):
    """What one LM pass says about each target position of a padded batch, all (B, L)."""

    log_probs: torch.Tensor          # log-probability of the target token; 0 at padded positions
    mask: torch.Tensor               # True at valid (non-padded) positions
    best: torch.Tensor               # the most probable token (for the next-unit error rate)


def token_scores(model: nn.Module, batch: Mapping[str, torch.Tensor]) -> TokenScores:
    """Score every target token of an :func:`lm_batch` (already on the model's device): the one definition of the
    objective that training, validation and scoring share."""
    log_probs = model(batch["inputs"])
    picked = log_probs.gather(-1, batch["targets"].unsqueeze(-1)).squeeze(-1)
    positions = torch.arange(picked.size(1), device=picked.device)[None, :]
    mask = positions < batch["lengths"].to(picked.device)[:, None]
    return TokenScores(picked.masked_fill(~mask, 0.0), mask, log_probs.argmax(-1))


@torch.no_grad()
def score(model: UnitLstmLm, sequences: Sequence[Sequence[int]], batch_size: int = 64,
          device: Union[str, torch.device] = "cpu") -> Tuple[torch.Tensor, torch.Tensor]:
    """Per sequence: its log-probability (float64 sum over units and ``</s>``) and the number of predicted
    tokens (units + 1), in the order given. The model is scored in eval mode (no dropout) and left as it was."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    training = model.training
    model.eval()
    totals: List[torch.Tensor] = []
    lengths: List[torch.Tensor] = []
    try:
        for start in range(0, len(sequences), batch_size):
            chunk = [list(map(int, s)) for s in sequences[start:start + batch_size]]
            batch = {k: v.to(device) for k, v in lm_batch(chunk, model.config).items()}
            totals.append(token_scores(model, batch).log_probs.double().sum(dim=1).cpu())
            lengths.append(batch["lengths"].cpu())
    finally:
        model.train(training)
    if not totals:
        return torch.zeros(0, dtype=torch.float64), torch.zeros(0, dtype=torch.long)
    return torch.cat(totals), torch.cat(lengths)


def init_from_centroids(model: UnitLstmLm, centroids: torch.Tensor, where: str = "centroids") -> None:
    """Copy centroid ``u`` into embedding row ``u`` for every unit; the ``<s>``/``</s>`` rows keep their init."""
    k, dim = model.config.num_units, model.config.embed_dim
    if tuple(centroids.shape) != (k, dim):
        raise ValueError(f"{where}: centroids of shape {tuple(centroids.shape)} cannot initialise the embeddings "
                         f"of {k} units x {dim} dims; use the k-means file the units were made with, and "
                         "model.embed_dim: null (the centroids' dimension)")
    with torch.no_grad():
        model.embed.weight[:k].copy_(centroids.to(model.embed.weight.dtype))


@dataclasses.dataclass
class StoredUnitLm:
    """A trained unit LM read back from its checkpoint: the model (eval mode) and how it reads units."""

    model: UnitLstmLm
    deduplicate: bool
    units_meta: Dict[str, Any]

    def prepare(self, units: torch.Tensor) -> List[int]:
        """A cut's unit ids as this model was trained on them (runs merged if it was trained so)."""
        return (merge_runs(units) if self.deduplicate else units).tolist()


def load_unit_lm(path: Union[str, Path], device: Union[str, torch.device] = "cpu") -> StoredUnitLm:
    """The unit LM of a ``final.pt``/``best-step*.pt``/``last.pt`` of the ``unit_lm`` task (``weights_only``)."""
    ckpt = load_model_checkpoint(path)
    info = ckpt.get(METADATA_KEY)
    if not isinstance(info, dict) or MODEL_NAME not in ckpt["models"]:
        raise ValueError(f"{path} is not a unit LM checkpoint (no '{METADATA_KEY}' entry); pass the final.pt of "
                         "a unit_lm training")
    model = UnitLstmLm(UnitLmConfig(**info["model"]))
    try:
        model.load_state_dict(ckpt["models"][MODEL_NAME])
    except RuntimeError as e:
        raise ValueError(f"{path}: the weights do not fit the recorded model {info['model']}: {e}") from e
    return StoredUnitLm(model.to(device).eval(), bool(info["deduplicate"]), dict(info.get("units_meta") or {}))
