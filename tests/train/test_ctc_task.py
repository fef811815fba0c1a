"""The phoneme CTC task with the real tokenizer, Conformer and CTC loss: filtering, loss, validation, remap."""
from __future__ import annotations

import torch
from synthetic import UNITS

from phonasr.data.dataset import load_cuts, make_loader, make_sampler, parse_manifests
from phonasr.tokenizers import PhonemeTokenizer, save_tokenizer
from phonasr.train.checkpoint import model_checkpoint
from phonasr.train.ctc_task import CtcTask, min_ctc_frames
from phonasr.utils.io import atomic_torch_save


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


def test_initialises_from_checkpoint_with_remapped_output(tmp_path):
    source = CtcTask(ctc_config(tmp_path, UNITS), torch.device("cpu"))
    models = source.build_models()
    atomic_torch_save(model_checkpoint(models, source.config, source.checkpoint_metadata()), tmp_path / "src.pt")
    new_units = ["b", "a", "z"]
    target = CtcTask(ctc_config(tmp_path, new_units, init={"checkpoint": str(tmp_path / "src.pt"),
                                                           "remap_output": True}), torch.device("cpu"))
    out = target.initialize(target.build_models())["s2p"].output
    old = models["s2p"].output
    assert out.out_features == 4
    torch.testing.assert_close(out.weight[1], old.weight[UNITS.index("b") + 1])  # shared symbols keep their row
    torch.testing.assert_close(out.weight[2], old.weight[UNITS.index("a") + 1])
