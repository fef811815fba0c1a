"""A tiny CTC task for testing the trainer before (and independently of) phonasr.models and phonasr.ctc.

It is a real task: stacked frames -> linear layer -> CTC over the synthetic units of ``synthetic.py``, trained
with torch's own CTC loss and scored by greedy decoding. Two test-only config keys exercise failure paths:
``toy_nan_cuts`` (cut ids whose batch gets a NaN loss) and ``toy_crash_after_batches`` (raise after that many
training batches in this process, standing in for a killed job). Its state records a checksum of the parameters
it saw at every batch, so a DDP test can compare the ranks' models step by step.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Tuple

import torch
from synthetic import UNITS

from phonasr.scoring.error_rate import ErrorCounts, align_tokens
from phonasr.train.task import Models, Task

STACK = 4


class TinyCtcModel(torch.nn.Module):
    def __init__(self, num_bins: int, vocab_size: int) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(num_bins * STACK, vocab_size)
        self.dropout = torch.nn.Dropout(0.1)

    def forward(self, feats: torch.Tensor, lens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        b, t, f = feats.shape
        t4 = t // STACK
        x = feats[:, : t4 * STACK].reshape(b, t4, f * STACK)
        return self.proj(self.dropout(x)).log_softmax(-1), lens // STACK


class ToyCtcTask(Task):
    def __init__(self, config: Mapping[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        self.nan_cuts = set(config.get("toy_nan_cuts", []))
        self.crash_after = int(config.get("toy_crash_after_batches", 0))
        self.batches_seen = 0
        self.epochs_started: list = []
        self.param_sums: list = []

    def build_models(self) -> Models:
        return {"toy": TinyCtcModel(80, len(UNITS) + 1)}

    def keep_cut(self, cut) -> bool:
        return cut.num_frames // STACK >= len(cut.supervisions[0].custom["phones"].split())

    def _targets(self, batch):
        return [[UNITS.index(p) + 1 for p in phones.split()] for phones in batch["phones"]]

    def _nll(self, model, batch):
        log_probs, out_lens = model(batch["features"].to(self.device), batch["feature_lens"].to(self.device))
        targets = self._targets(batch)
        flat = torch.tensor([i for t in targets for i in t])
        nll = torch.nn.functional.ctc_loss(log_probs.transpose(0, 1), flat, out_lens,
                                           torch.tensor([len(t) for t in targets]), reduction="sum")
        return nll, log_probs, out_lens, targets

    def compute_loss(self, models: Models, batch) -> Tuple[torch.Tensor, Dict[str, float], int]:
        self.batches_seen += 1
        if self.crash_after and self.batches_seen > self.crash_after:
            raise KeyboardInterrupt("simulated kill")
        self.param_sums.append(sum(float(p.detach().double().sum()) for p in models["toy"].parameters()))
        nll, _, _, targets = self._nll(models["toy"], batch)
        loss = nll / sum(len(t) for t in targets)
        if self.nan_cuts & set(batch["cut_ids"]):
            loss = loss * float("nan")
        return loss, {"loss": float(loss.detach())}, int(batch["feature_lens"].sum())

    def validate(self, models: Models, loader: Iterable) -> Dict[str, float]:
        total, tokens, counts = 0.0, 0, ErrorCounts()
        for batch in loader:
            nll, log_probs, out_lens, targets = self._nll(models["toy"], batch)
            total += float(nll)
            tokens += sum(len(t) for t in targets)
            for lp, n, ref in zip(log_probs, out_lens, targets):
                best = lp[: int(n)].argmax(-1).tolist()
                hyp = [s for i, s in enumerate(best) if s != 0 and (i == 0 or best[i - 1] != s)]
                counts += align_tokens([str(x) for x in ref], [str(x) for x in hyp])[1]
        return {"loss": total / tokens, "error_rate": counts.rate}

    def on_epoch_start(self, epoch: int) -> None:
        self.epochs_started.append(epoch)

    def state_dict(self) -> Dict[str, Any]:
        return {"epochs_started": list(self.epochs_started), "param_sums": list(self.param_sums)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.epochs_started = list(state["epochs_started"])
        self.param_sums = list(state["param_sums"])
