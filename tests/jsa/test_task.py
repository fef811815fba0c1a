"""The JSA task end to end on tiny models: true-phoneme targets for the labelled subset, cache in checkpoints."""
from __future__ import annotations

import collections
from typing import Dict, List

import pytest
import torch
from lhotse import CutSet

import phonasr.jsa.step as step_module
from phonasr.data.dataset import FeatureBatchDataset
from phonasr.jsa.task import JsaTask
from phonasr.train.distributed import DistContext
from phonasr.train.trainer import Trainer
from phonasr.utils.io import load_checkpoint


def _task_and_models(config: Dict):
    task = JsaTask(config, torch.device("cpu"))
    return task, task.initialize(task.build_models())


def _batch(jsa_corpus: Dict, cut_ids: List[str]) -> Dict:
    cuts = CutSet.from_file(jsa_corpus["root"] / "train.jsonl.gz").subset(cut_ids=cut_ids)
    return FeatureBatchDataset()[cuts]


def test_labelled_utterances_get_true_phoneme_targets(jsa_corpus, monkeypatch):
    task, models = _task_and_models(jsa_corpus["config"])
    calls = []
    real = step_module.ctc_loss

    def spy(log_probs, lens, targets, backend="auto"):
        calls.append([list(t) for t in targets])
        return real(log_probs, lens, targets, backend=backend)

    monkeypatch.setattr(step_module, "ctc_loss", spy)
    batch = _batch(jsa_corpus, ["pl-000", "pl-003", "pl-004"])
    loss, stats, frames = task.compute_loss(models, batch)
    loss.backward()
    assert torch.isfinite(loss) and frames == 3 * 160
    assert all(p.grad is not None for m in models.values() for p in m.parameters() if p.requires_grad)
    s2p_targets, g2p_targets, p2g_targets = calls
    for row, utt in enumerate(batch["cut_ids"]):
        state = task.cache.get(utt)
        assert state is not None, "every chain found a feasible state"
        truth = jsa_corpus["phone_tok"].encode(dict((i, p) for i, _, p in jsa_corpus["items"])[utt])
        expected = truth if utt in jsa_corpus["labelled"] else state
        assert s2p_targets[row] == expected and g2p_targets[row] == expected
        assert p2g_targets[row] == task.bpe.encode(batch["texts"][row])
    for key in ("accept_rate", "cache_changed", "proposal_per", "cache_per", "loss_s2p", "loss_p2g", "loss_g2p"):
        assert key in stats
    assert stats["cache_changed"] == 1.0  # a fresh cache: every entry is new


def test_restarted_chains_ignore_the_cache(jsa_corpus):
    config = dict(jsa_corpus["config"], jsa=dict(jsa_corpus["config"]["jsa"], cache="restart"))
    task, _ = _task_and_models(config)
    task.cache.update(["pl-003"], [[1, 2, 3]])
    assert task.cache.chain_start("pl-003") is None


@pytest.mark.slow
def test_training_saves_the_cache_and_resume_restores_it(jsa_corpus, tmp_path):
    exp = tmp_path / "exp"
    Trainer(jsa_corpus["config"], exp, DistContext.from_env("cpu")).run()
    state = load_checkpoint(exp / "last.pt")
    cache = state["per_rank"][0]["task"]["cache"]
    assert len(cache["utt_ids"]) >= 2 and set(cache["utt_ids"]) <= {u for u, _, _ in jsa_corpus["items"]}
    resumed = Trainer(jsa_corpus["config"], exp, DistContext.from_env("cpu"))
    assert sorted(dict(resumed.task.cache.items())) == sorted(cache["utt_ids"])
    final = load_checkpoint(exp / "final.pt")
    assert set(final["models"]) == {"s2p", "p2g", "g2p"} and "wer" in final["metrics"][0]


def test_trainer_oversamples_the_labelled_subset(jsa_corpus, tmp_path):
    """The real Trainer's data pipeline applies JsaTask.train_manifests: one epoch visits each labelled utterance
    labelled_weight (2) times, and the batches name them by utterance id (the key of their one chain)."""
    trainer = Trainer(jsa_corpus["config"], tmp_path, DistContext.from_env("cpu"))
    trainer.data.sampler.start_epoch(1)
    visits = collections.Counter(u for batch in trainer.data.train_loader for u in batch["utt_ids"])
    assert visits == {u: 2 if u in jsa_corpus["labelled"] else 1 for u, _, _ in jsa_corpus["items"]}
