"""The JSA task end to end on tiny models: true-phoneme targets for the labelled subset, cache in checkpoints."""
from __future__ import annotations

import collections
import copy
from typing import Dict, List

import pytest
import torch
from lhotse import CutSet

import phonasr.jsa.step as step_module
import phonasr.jsa.task as task_module
from phonasr.batching.cuts import FeatureBatchDataset
from phonasr.jsa.cache import SampleCache
from phonasr.jsa.stats import phone_error_rate
from phonasr.jsa.task import JsaTask
from phonasr.train.distributed import DistContext
from phonasr.train.monitor import TrainingMonitor
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
        assert p2g_targets[row] == task.graphemes.encode(batch["texts"][row])
    for key in ("accept_rate", "cache_per", "cache_per_unlabelled", "loss_s2p", "loss_p2g", "loss_g2p"):
        assert key in stats
    # a fresh cache: every chain starts from the S2P's greedy hypothesis (jsa.new_chain_start: s2p_greedy), which
    # is no initialisation by a proposal; no entry existed to change or to measure the proposals against
    assert stats["chain_init"] == 0.0
    assert not {"cache_changed", "proposal_per"} & set(stats)


def test_new_chains_start_from_a_proposal_when_asked(jsa_corpus):
    config = copy.deepcopy(jsa_corpus["config"])
    config["jsa"]["new_chain_start"] = "proposal"
    task, models = _task_and_models(config)
    _, stats, _ = task.compute_loss(models, _batch(jsa_corpus, ["pl-000", "pl-003", "pl-004"]))
    assert stats["chain_init"] == 1.0  # every chain took its first feasible proposal without a test


@pytest.fixture
def step_calls(monkeypatch) -> List[Dict]:
    """The arguments and outputs of every jsa_step call the task makes."""
    calls: List[Dict] = []
    real = task_module.jsa_step

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(dict(kwargs, out=out))
        return out

    monkeypatch.setattr(task_module, "jsa_step", spy)
    return calls


def test_a_chain_left_without_a_feasible_state_trains_on_nothing_and_is_counted(jsa_corpus, step_calls):
    """A margin no candidate meets makes every proposal and the cached state of pl-003 infeasible: that state
    is no sample to train on, the chain counts in ``no_state`` like the two new chains that found none."""
    config = dict(jsa_corpus["config"], jsa=dict(jsa_corpus["config"]["jsa"], length_margin=1000))
    task, models = _task_and_models(config)
    task.cache.update([("pl-003", [1, 2])])
    _, stats, _ = task.compute_loss(models, _batch(jsa_corpus, ["pl-003", "pl-004", "pl-005"]))
    assert step_calls[0]["out"].result.states == [None, None, None]
    assert stats["no_state"] == 3.0 and stats["chain_init"] == 0.0
    assert task.cache.get("pl-003") == [1, 2] and "pl-004" not in task.cache


@pytest.mark.parametrize("cache", ["persistent", "restart"])
def test_second_visit_starts_from_the_cache(jsa_corpus, step_calls, cache):
    # new chains take a proposal as their first state, so chain_init tells restarted chains from continued ones
    config = dict(jsa_corpus["config"], jsa=dict(jsa_corpus["config"]["jsa"], cache=cache, new_chain_start="proposal"))
    task, models = _task_and_models(config)
    batch = _batch(jsa_corpus, ["pl-002", "pl-003", "pl-004"])
    task.compute_loss(models, batch)
    after_first = [task.cache.get(u) for u in batch["utt_ids"]]
    assert step_calls[0]["chain_starts"] == [None] * 3 and None not in after_first
    _, stats, _ = task.compute_loss(models, batch)
    expected = after_first if cache == "persistent" else [None] * 3
    assert step_calls[1]["chain_starts"] == expected
    # restarted chains are all initialised again; persistent ones continue (none needs a first state)
    assert stats["chain_init"] == (0.0 if cache == "persistent" else 1.0)


def test_chain_statistics_measure_against_the_cache_before_the_step(jsa_corpus, step_calls):
    torch.manual_seed(1)  # the proposals come from the global generator: whether a chain moves must not depend on
    #                       which tests ran before
    # chains started from proposals (the random S2P's greedy hypotheses are states its chains seldom leave)
    config = dict(jsa_corpus["config"], jsa=dict(jsa_corpus["config"]["jsa"], new_chain_start="proposal"))
    task, models = _task_and_models(config)
    batch = _batch(jsa_corpus, ["pl-000", "pl-003", "pl-004"])  # pl-000 is labelled
    task.compute_loss(models, batch)
    before = {u: task.cache.get(u) for u in batch["utt_ids"]}
    _, stats, _ = task.compute_loss(models, batch)
    out = step_calls[1]["out"]
    chains = [batch["utt_ids"][r] for r in out.chain_rows]
    refs = [before[u] for u, props in zip(chains, out.proposals) for _ in props]
    hyps = [p for props in out.proposals for p in props]
    assert stats["proposal_per"] == pytest.approx(phone_error_rate(refs, hyps))
    moved = [before[u] != s for u, s in zip(chains, out.result.states)]
    assert any(moved), "a chain must move, or the cache before and after the step would be the same"
    assert stats["cache_changed"] == pytest.approx(sum(moved) / len(chains))
    assert stats["accept_rate"] == pytest.approx(sum(out.result.accepted) / sum(out.result.tested))
    truth = {u: jsa_corpus["phone_tok"].encode(p) for u, _, p in jsa_corpus["items"]}
    unlabelled = [u for u in chains if u not in jsa_corpus["labelled"]]
    assert stats["cache_per"] == pytest.approx(phone_error_rate([truth[u] for u in chains],
                                                                [task.cache.get(u) for u in chains]))
    assert stats["cache_per_unlabelled"] == pytest.approx(
        phone_error_rate([truth[u] for u in unlabelled], [task.cache.get(u) for u in unlabelled]))


def test_copies_in_one_batch_continue_one_chain(jsa_corpus, step_calls):
    """Oversampled copies in one batch: one chain per utterance through all its copies' proposals, whose final
    state is what the cache keeps (not whichever copy's chain happened to be written last)."""
    task, models = _task_and_models(jsa_corpus["config"])
    cuts = CutSet.from_file(jsa_corpus["root"] / "train.jsonl.gz").subset(cut_ids=["pl-000", "pl-004"]).repeat(2)
    batch = FeatureBatchDataset()[cuts]
    assert sorted(batch["utt_ids"]) == ["pl-000", "pl-000", "pl-004", "pl-004"]
    task.compute_loss(models, batch)
    out = step_calls[0]["out"]
    chains = [batch["utt_ids"][r] for r in out.chain_rows]
    assert sorted(chains) == ["pl-000", "pl-004"]
    assert [len(p) for p in out.proposals] == [2 * jsa_corpus["config"]["jsa"]["num_samples"]] * 2
    for utt, state in zip(chains, out.result.states):
        assert task.cache.get(utt) == state


def test_jsa_panels_are_collected_and_plotted(jsa_corpus, tmp_path):
    task, models = _task_and_models(jsa_corpus["config"])
    monitor = TrainingMonitor(tmp_path)
    batch = _batch(jsa_corpus, ["pl-000", "pl-003", "pl-004"])
    for step in (1, 2):
        _, stats, _ = task.compute_loss(models, batch)
        monitor.record("train", step, dict(stats, lr=1e-3))
    series = dict(monitor.series(task.plot_panels()))
    labels = {title: [label for label, _, _ in lines] for title, lines in series.items()}
    assert labels == {"MIS acceptance rate": ["train accept_rate"],
                      "cache entries changed": ["train cache_changed", "train chain_init"],
                      "proposal PER vs cache (%)": ["train proposal_per"],
                      "cache PER vs truth (%)": ["train cache_per", "train cache_per_unlabelled"]}
    steps = {label: s for lines in series.values() for label, s, _ in lines}
    assert steps["train accept_rate"] == [1, 2] and steps["train proposal_per"] == [2]  # no cache at step 1
    png = monitor.plot("WER", task.plot_panels())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monitor.close()


@pytest.mark.slow
def test_training_saves_the_cache_and_resume_restores_it(jsa_corpus, tmp_path):
    exp = tmp_path / "exp"
    trainer = Trainer(jsa_corpus["config"], exp, DistContext.from_env("cpu"))
    trainer.run()
    trained = dict(trainer.task.cache.items())
    state = load_checkpoint(exp / "last.pt")
    assert state["per_rank"][0]["task"] == {}  # the cache is saved once, not per rank
    assert len(trained) >= 2 and set(trained) <= {u for u, _, _ in jsa_corpus["items"]}
    resumed = Trainer(jsa_corpus["config"], exp, DistContext.from_env("cpu"))
    assert dict(resumed.task.cache.items()) == trained  # the sequences, not only the ids
    final = load_checkpoint(exp / "final.pt")
    assert set(final["models"]) == {"s2p", "p2g", "g2p"} and "wer" in final["metrics"][0]
    train_points = [h for h in state["history"] if h["split"] == "train"]
    assert train_points and all("accept_rate" in h and "chain_init" in h for h in train_points)
    assert (exp / "curves.png").is_file()


def test_trainer_oversamples_the_labelled_subset(jsa_corpus, tmp_path):
    """The real Trainer's data pipeline applies JsaTask.train_manifests: one epoch visits each labelled utterance
    labelled_weight (2) times, and the batches name them by utterance id (the key of their one chain)."""
    trainer = Trainer(jsa_corpus["config"], tmp_path, DistContext.from_env("cpu"))
    trainer.data.sampler.start_epoch(1)
    visits = collections.Counter(u for batch in trainer.data.train_loader for u in batch["utt_ids"])
    assert visits == {u: 2 if u in jsa_corpus["labelled"] else 1 for u, _, _ in jsa_corpus["items"]}


def test_checkpoint_with_a_per_rank_cache_still_resumes(jsa_corpus):
    """last.pt files written before the cache was shared across ranks kept it in each rank's task state."""
    old = SampleCache()
    old.update([("pl-001", [3, 1, 2]), ("pl-002", [])])
    task = JsaTask(jsa_corpus["config"], torch.device("cpu"))
    task.load_state_dict({"cache": old.state_dict()})
    task.load_shared_state_dict({})
    assert dict(task.cache.items()) == {"pl-001": [3, 1, 2], "pl-002": []}
