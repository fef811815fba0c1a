"""jsa_step: which networks score the chains, copies of an utterance sharing a chain, and gradients that stay
finite (infeasible true phonemes) and present (a batch without samples, as DDP needs)."""
from __future__ import annotations

from typing import Dict, List

import pytest
import torch

import phonasr.jsa.proposal as proposal_module
import phonasr.jsa.step as step_module
from phonasr.batching.padding import pad_ids
from phonasr.ctc import greedy_search
from phonasr.jsa.likelihoods import CtcLikelihoods, inference
from phonasr.jsa.step import group_chains, jsa_step
from phonasr.models import build_model

PHONES, SUBWORDS, CHARS, K = 6, 7, 8, 3
CHARS_OF = [[1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7, 1]]
GRAPHEMES = [[1, 2], [3, 4, 5]]


@pytest.fixture
def models() -> Dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    token = {"type": "transformer", "preset": "tiny", "upsample": 2, "dropout": 0.3}
    out = {"s2p": build_model({"type": "conformer", "preset": "tiny", "dropout": 0.3}, PHONES),
           "p2g": build_model(token, SUBWORDS, PHONES), "g2p": build_model(token, PHONES, CHARS)}
    for m in out.values():
        m.train()
    return out


def batch(rows: List[int]) -> Dict:
    gen = torch.Generator().manual_seed(1)
    feats = torch.randn(2, 80, 80, generator=gen)
    return {"features": feats[rows], "feature_lens": torch.tensor([80, 64])[rows],
            "graphemes": [GRAPHEMES[r] for r in rows], "chars": [CHARS_OF[r] for r in rows]}


def step(models, rows: List[int], **kw):
    b = batch(rows)
    kw.setdefault("chain_starts", [None] * len(rows))
    kw.setdefault("fixed_targets", [None] * len(rows))
    return jsa_step(models, b["features"], b["feature_lens"], b["graphemes"], b["chars"], num_samples=K,
                    ctc_backend="torch", **kw)


@pytest.fixture
def captured(monkeypatch) -> Dict:
    """What the sampler received: the score function, the chains' starts and proposals, and the CTC outputs the
    proposals were drawn from (in order: the G2P's, then the S2P's if the mixture drew from it)."""
    seen: Dict = {"proposal_log_probs": []}
    real_sample, real_chains = proposal_module.ctc_sample, step_module.run_chains

    def sample(log_probs, lens, num_samples):
        seen["proposal_log_probs"].append(log_probs.clone())
        return real_sample(log_probs, lens, num_samples)

    def chains(states, proposals, score, **kw):
        seen.update(states=states, proposals=proposals, score=score, s2p_weight=kw.get("s2p_weight"))
        return real_chains(states, proposals, score, **kw)

    monkeypatch.setattr(proposal_module, "ctc_sample", sample)
    monkeypatch.setattr(step_module, "run_chains", chains)
    return seen


def eval_outputs(models, rows: List[int]):
    b = batch(rows)
    with inference(models["s2p"], models["g2p"]):
        return models["s2p"](b["features"], b["feature_lens"])[0], models["g2p"](*pad_ids(b["chars"]))[0]


def test_eval_mode_scores_and_proposes_with_the_dropout_free_networks(models, captured):
    s2p_eval, g2p_eval = eval_outputs(models, [0, 1])
    step(models, [0, 1], score_mode="eval", proposal_s2p_weight=0.5)
    torch.testing.assert_close(captured["score"].s2p_log_probs, s2p_eval)
    torch.testing.assert_close(captured["score"].g2p_log_probs, g2p_eval)
    g2p_drawn, s2p_drawn = captured["proposal_log_probs"]
    torch.testing.assert_close(g2p_drawn, g2p_eval)
    torch.testing.assert_close(s2p_drawn, s2p_eval)
    assert captured["s2p_weight"] == 0.5  # the sampler weighs with the density of the mixture it drew from
    assert all(m.training for model in models.values() for m in model.modules())


def test_train_mode_scores_with_the_training_pass(models, captured):
    s2p_eval, g2p_eval = eval_outputs(models, [0, 1])
    step(models, [0, 1], score_mode="train", proposal_s2p_weight=0.5)
    assert not torch.allclose(captured["score"].s2p_log_probs, s2p_eval)  # a dropout mask was applied
    g2p_drawn, s2p_drawn = captured["proposal_log_probs"]
    assert torch.equal(g2p_drawn, captured["score"].g2p_log_probs)
    assert torch.equal(s2p_drawn, captured["score"].s2p_log_probs)


def test_no_dropout_mode_scores_with_its_one_pass_equal_to_a_separate_eval_pass(models, captured, monkeypatch):
    """One forward pass per network, with gradients and without dropout: the sampler's weights and proposals are
    those of the dropout-free eval networks, the losses backpropagate, and the models' modes are restored."""
    s2p_eval, g2p_eval = eval_outputs(models, [0, 1])
    calls = {"s2p": 0, "g2p": 0}
    for name in calls:
        real = models[name].forward

        def counted(*args, _name=name, _real=real, **kw):
            calls[_name] += 1
            return _real(*args, **kw)
        monkeypatch.setattr(models[name], "forward", counted)
    out = step(models, [0, 1], score_mode="no_dropout", proposal_s2p_weight=0.5)
    assert calls == {"s2p": 1, "g2p": 1}
    torch.testing.assert_close(captured["score"].s2p_log_probs, s2p_eval)
    torch.testing.assert_close(captured["score"].g2p_log_probs, g2p_eval)
    g2p_drawn, s2p_drawn = captured["proposal_log_probs"]
    torch.testing.assert_close(g2p_drawn, g2p_eval)
    torch.testing.assert_close(s2p_drawn, s2p_eval)
    # the weights of every candidate equal those an eval-mode pass computes
    utts = [c for c, props in enumerate(captured["proposals"]) for _ in props]
    cands = [h for props in captured["proposals"] for h in props]
    got = captured["score"](utts, cands)
    ref_score = CtcLikelihoods((s2p_eval, captured["score"].s2p_lens), (g2p_eval, captured["score"].g2p_lens),
                               models["p2g"], GRAPHEMES, [len(c) for c in CHARS_OF], "torch")
    want = ref_score(utts, cands)
    for field in ("s2p", "p2g", "g2p"):
        torch.testing.assert_close(getattr(got, field), getattr(want, field))
    out.loss().backward()
    for name, model in models.items():
        assert all(p.grad is not None for p in model.parameters()), name
    assert all(m.training for model in models.values() for m in model.modules())


def test_no_dropout_mode_runs_s2p_and_g2p_without_dropout(models):
    """S2P and G2P run once each, with gradients, in eval mode; the P2G scores in eval mode and trains with dropout
    (its training pass is no scoring pass). In ``eval`` mode every pass with gradients has dropout."""
    seen = []
    for name, model in models.items():
        model.register_forward_pre_hook(lambda m, args, _n=name: seen.append((_n, m.training, torch.is_grad_enabled())))
    step(models, [0, 1], score_mode="no_dropout", proposal_s2p_weight=0.5, chain_starts=[[1, 2], [3, 4, 5]])
    assert sorted(seen) == [("g2p", False, True), ("p2g", False, False), ("p2g", True, True), ("s2p", False, True)]
    seen.clear()
    step(models, [0, 1], score_mode="eval", chain_starts=[[1, 2], [3, 4, 5]])
    assert all(training for _, training, grad in seen if grad)


def test_new_chains_can_start_from_the_s2p_greedy_hypothesis(models, captured):
    b = batch([0, 1])
    with inference(models["s2p"]):
        best = greedy_search(*models["s2p"](b["features"], b["feature_lens"]))
    start = [1, 2, 3]
    step(models, [0, 1], chain_starts=[start, None], new_chains_from_s2p=True)
    assert captured["states"] == [start, best[1]]


def test_unknown_score_mode_is_an_error(models):
    with pytest.raises(ValueError, match="score_mode"):
        step(models, [0], score_mode="dropout")


def test_copies_of_an_utterance_share_one_chain(models, captured, monkeypatch):
    targets: List[List[List[int]]] = []
    real_loss = step_module.ctc_loss

    def spy(log_probs, lens, tgts, backend="auto"):
        targets.append([list(t) for t in tgts])
        return real_loss(log_probs, lens, tgts, backend=backend)

    monkeypatch.setattr(step_module, "ctc_loss", spy)
    start = [1, 2, 3]
    out = step(models, [0, 1, 0], chain_ids=["a", "b", "a"], chain_starts=[start, None, start])
    assert out.chain_rows == [0, 1]
    assert captured["states"] == [start, None]
    assert [len(p) for p in captured["proposals"]] == [2 * K, K]  # one chain through both copies' proposals
    final = out.result.states[0]
    assert final is not None
    s2p_targets = targets[0]
    assert s2p_targets[0] == s2p_targets[2] == final


def test_group_chains():
    assert group_chains(["u", "v", "u", "w", "v"]) == ([0, 1, 3], [0, 1, 0, 2, 1])
    assert group_chains(range(3)) == ([0, 1, 2], [0, 1, 2])


def test_infeasible_true_phonemes_leave_gradients_finite(models):
    """A labelled utterance whose 15 true phonemes are more than its G2P emits (12 frames: 6 characters, upsampled
    twice) cannot be the G2P's CTC target; its infinite loss must not turn the batch's gradients into NaN."""
    out = step(models, [0, 1], fixed_targets=[[1, 2, 3, 4, 5] * 3, None])
    out.loss().backward()
    assert out.g2p.infeasible == 1 and out.s2p.infeasible == 0
    for name, model in models.items():
        for p in model.parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_p2g_gets_zero_gradients_when_no_chain_has_a_state(models):
    """Under DDP every rank must produce gradients for every parameter in every step, also when none of its
    chains found a feasible state (here: a length margin no candidate can meet)."""
    out = step(models, [0, 1], length_margin=1000)
    assert out.result.states == [None, None]
    out.loss().backward()
    for p in models["p2g"].parameters():
        assert p.grad is not None and not p.grad.any()
