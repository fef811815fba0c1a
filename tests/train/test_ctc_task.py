"""The phoneme CTC task with the real tokenizer, Conformer and CTC loss: filtering, loss, validation, remap."""
from __future__ import annotations

import logging
import math

import pytest
import torch
from lhotse import CutSet
from synthetic import UNITS

from phonasr.batching.cuts import load_cuts, make_loader, make_sampler, parse_manifests
from phonasr.ctc import min_ctc_frames
from phonasr.models.stored import model_checkpoint
from phonasr.tokenizers import PhonemeTokenizer, save_tokenizer
from phonasr.train.ctc_task import CtcTask
from phonasr.utils.io import atomic_torch_save, load_checkpoint


def ctc_config(tmp_path, units, **extra):
    lang = tmp_path / f"lang_{len(units)}"
    save_tokenizer(PhonemeTokenizer.from_units(units), lang)
    return {"task": "ctc", "tokenizer_dir": str(lang), "target_field": "phones",
            "model": {"type": "conformer", "preset": "tiny", "num_blocks": 1}, **extra}


def test_min_ctc_frames_counts_blanks_between_repeats():
    assert min_ctc_frames([1, 2, 3]) == 3 and min_ctc_frames([1, 1, 2, 2]) == 6 and min_ctc_frames([]) == 0


def test_filters_short_cuts_and_validates(tmp_path, feature_corpus):
    task = CtcTask(ctc_config(tmp_path, UNITS), torch.device("cpu"))
    models = task.build_models()
    cuts, report = load_cuts(parse_manifests(feature_corpus["train"][0]), task.keep_cut, seed=0)
    assert (report.kept, report.rejected) == (24, 3) and report.examples == feature_corpus["short_ids"]
    batch = next(iter(make_loader(make_sampler(cuts, 3.0, False, 2, 0), 0, 0)))
    loss, stats, frames = task.compute_loss(models, batch)
    assert torch.isfinite(loss) and frames == int(batch["feature_lens"].sum())
    loss.backward()
    assert models["s2p"].output.weight.grad is not None
    dev, _ = load_cuts(parse_manifests(feature_corpus["dev"]), task.keep_cut, seed=0)
    with torch.no_grad():
        metrics = task.validate(models, make_loader(make_sampler(dev, 3.0, False, 2, 0), 0, 0))
    assert metrics["utts"] == 8 and metrics["error_rate"] > 0 and metrics["loss"] > 0


def test_dev_set_is_scored_whole_with_its_untrainable_cuts_logged(tmp_path, feature_corpus, caplog):
    """The dev set that picks the best checkpoints is scored in full, as test sets are: the 3 cuts too short for
    their target are logged, decoded and counted in the error rate (they only lack a finite dev loss)."""
    caplog.set_level(logging.INFO)
    data = {"train": feature_corpus["train"][0], "dev": feature_corpus["train"][0], "num_buckets": 2,
            "num_workers": 0}
    task = CtcTask(ctc_config(tmp_path, UNITS, data=data), torch.device("cpu"))
    loaders = task.build_data(seed=0, world_size=1, rank=0)
    short = ", ".join(feature_corpus["short_ids"])
    assert "dev set: 27 cuts (" in caplog.text and "3 untrainable ones (too short" in caplog.text
    assert f"(e.g. {short})" in caplog.text
    with torch.no_grad():
        metrics = task.validate(task.build_models(), loaders.dev_loader)
    assert metrics["utts"] == 27 and metrics["infeasible"] == 3 and math.isfinite(metrics["loss"])


def test_model_from_scratch_normalises_with_its_training_features(tmp_path, feature_corpus):
    config = ctc_config(tmp_path, UNITS, data={"train": feature_corpus["train"], "dev": feature_corpus["dev"]})
    task = CtcTask(config, torch.device("cpu"))
    cmvn = task.initialize(task.build_models())["s2p"].encoder.cmvn
    frames = torch.cat([torch.from_numpy(c.load_features()) for path in feature_corpus["train"]
                        for c in CutSet.from_jsonl_lazy(path)])
    torch.testing.assert_close(cmvn.mean, frames.double().mean(0).float())
    torch.testing.assert_close(cmvn.inv_std, 1.0 / frames.double().std(0, unbiased=False).float())


def test_input_statistics_come_from_at_most_cmvn_max_cuts_shared_by_the_manifests(tmp_path, feature_corpus):
    data = {"train": feature_corpus["train"], "dev": feature_corpus["dev"], "cmvn_max_cuts": 4}
    task = CtcTask(ctc_config(tmp_path, UNITS, data=data), torch.device("cpu"))
    cmvn = task.initialize(task.build_models())["s2p"].encoder.cmvn
    firsts = [c for path in feature_corpus["train"] for c, _ in zip(CutSet.from_jsonl_lazy(path), range(2))]
    frames = torch.cat([torch.from_numpy(c.load_features()) for c in firsts]).double()
    torch.testing.assert_close(cmvn.mean, frames.mean(0).float())


def save_source(tmp_path, **model) -> tuple:
    """A "pretrained" phoneme model over UNITS (tiny, one block, dropout 0.1 unless ``model`` says otherwise)."""
    config = ctc_config(tmp_path, UNITS)
    config["model"].update(model)
    source = CtcTask(config, torch.device("cpu"))
    models = source.build_models()
    if models["s2p"].encoder.cmvn is not None:
        models["s2p"].encoder.cmvn.set_stats(torch.full((80,), 5.0), torch.full((80,), 2.0))
    atomic_torch_save(model_checkpoint(models, source.config, source.checkpoint_metadata()), tmp_path / "src.pt")
    return models["s2p"], str(tmp_path / "src.pt")


def fine_tune(tmp_path, units, init, **model) -> CtcTask:
    config = ctc_config(tmp_path, units, init=init)
    config["model"].update(model)
    return CtcTask(config, torch.device("cpu"))


def test_initialises_from_checkpoint_with_remapped_output(tmp_path):
    old, path = save_source(tmp_path)
    target = fine_tune(tmp_path, ["b", "a", "z"], {"checkpoint": path, "remap_output": True})
    model = target.initialize(target.build_models())["s2p"]
    torch.testing.assert_close(model.encoder.cmvn.mean, torch.full((80,), 5.0))  # the pretrained statistics
    out = model.output
    assert out.out_features == 4
    torch.testing.assert_close(out.weight[0], old.output.weight[0])  # blank
    torch.testing.assert_close(out.weight[1], old.output.weight[UNITS.index("b") + 1])  # shared symbols keep their row
    torch.testing.assert_close(out.weight[2], old.output.weight[UNITS.index("a") + 1])
    # "z" is new: by default the mean of the old non-blank rows
    torch.testing.assert_close(out.weight[3], old.output.weight[1:].mean(0))
    torch.testing.assert_close(out.bias[3], old.output.bias[1:].mean())


def test_new_rows_setting_chooses_how_new_symbols_start(tmp_path):
    old, path = save_source(tmp_path)
    target = fine_tune(tmp_path, ["b", "z"], {"checkpoint": path, "remap_output": True, "new_rows": "random"})
    out = target.initialize(target.build_models())["s2p"].output
    torch.testing.assert_close(out.weight[1], old.output.weight[UNITS.index("b") + 1])
    assert not torch.allclose(out.weight[2], old.output.weight[1:].mean(0))
    with pytest.raises(ValueError, match="init.new_rows must be one of mean, random, not 'zero'"):
        fine_tune(tmp_path, ["b", "z"], {"checkpoint": path, "remap_output": True, "new_rows": "zero"})
    with pytest.raises(ValueError, match="unknown init settings: remap"):
        fine_tune(tmp_path, ["b", "z"], {"checkpoint": path, "remap": True})


def test_fine_tuning_builds_the_model_of_its_own_config(tmp_path):
    """The fine-tuning config's dropout is honoured; the encoder carries the pretrained weights; the checkpoint
    records the model that was trained, so a resumed run rebuilds the same."""
    old, path = save_source(tmp_path, dropout=0.1)
    for remap in (True, False):
        target = fine_tune(tmp_path, ["b", "a", "z"] if remap else UNITS, {"checkpoint": path, "remap_output": remap},
                           dropout=0.3)
        model = target.initialize(target.build_models())["s2p"]
        assert {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)} == {0.3}
        for name, value in old.encoder.state_dict().items():
            torch.testing.assert_close(model.encoder.state_dict()[name], value)
        recorded = target.checkpoint_metadata()["model_specs"]["s2p"]["config"]
        assert recorded == target.config["model"] and recorded["dropout"] == 0.3


@pytest.mark.parametrize("model", [{"num_blocks": 2}, {"num_heads": 2}, {"d_model": 64, "ffn_dim": 128}])
def test_a_fine_tuning_config_with_another_architecture_fails_clearly(tmp_path, model):
    _, path = save_source(tmp_path)
    for remap in (True, False):  # num_heads changes no weight shape: only the architecture check can catch it
        target = fine_tune(tmp_path, ["b", "a", "z"] if remap else UNITS, {"checkpoint": path, "remap_output": remap},
                           **model)
        with pytest.raises(ValueError, match=r"model 's2p' of .*src.pt has the architecture .* this config's model "
                                             r"section is .*: fine-tuning needs the same sizes"):
            target.initialize(target.build_models())


def test_weights_that_do_not_fit_the_recorded_architecture_fail_clearly(tmp_path):
    _, path = save_source(tmp_path)
    ckpt = load_checkpoint(path)
    ckpt["models"]["s2p"] = {k: v for k, v in ckpt["models"]["s2p"].items() if "blocks.0.conv" not in k}
    atomic_torch_save(ckpt, path)
    target = fine_tune(tmp_path, ["b", "z"], {"checkpoint": path, "remap_output": True})
    with pytest.raises(ValueError, match=r"(?s)the weights of model 's2p' of .*src.pt do not fit .*Missing key"):
        target.initialize(target.build_models())
