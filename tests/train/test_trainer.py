"""The training loop with the toy CTC task: learning, resume-after-kill, best-N averaging, logs, bad batches."""
from __future__ import annotations

import logging
import struct

import pytest
import torch
from toy_task import ToyCtcTask

from phonasr.train.distributed import DistContext
from phonasr.train.monitor import TrainingMonitor
from phonasr.train.trainer import Trainer, average_stats
from phonasr.utils.io import load_checkpoint


def train(config, exp_dir):
    return Trainer(config, exp_dir, DistContext.from_env("cpu")).run()


def params(path, name="toy"):
    return load_checkpoint(path)["models"][name]


def test_trains_and_writes_outputs(toy_config, tmp_path):
    final = train(toy_config, tmp_path)
    ckpt = load_checkpoint(final)
    assert ckpt["kind"] == "model" and set(ckpt["models"]) == {"toy"}
    assert len(ckpt["averaged_from"]) == 2, "the average of the 2 best validated no worse than the best alone"
    last = load_checkpoint(tmp_path / "last.pt")
    assert last["finished"] and last["epoch"] == 3
    dev = [h for h in last["history"] if h["split"] == "dev"]
    train_loss = [h["loss"] for h in last["history"] if h["split"] == "train"]
    assert len(dev) == 2 and dev[-1]["error_rate"] < dev[0]["error_rate"] and train_loss[-1] < train_loss[0]
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    # best-N: exactly keep_best model files remain, and final.pt is their average
    best = sorted(tmp_path.glob("best-step*.pt"))
    assert len(best) == 2
    for key, value in ckpt["models"]["toy"].items():
        mean = sum(params(p)[key] for p in best) / 2
        torch.testing.assert_close(value, mean)


def test_final_is_the_best_checkpoint_when_the_average_validates_worse(toy_config, tmp_path, monkeypatch):
    real_validate = ToyCtcTask.validate
    calls = []

    def validate(self, models, loader):  # the third validation is the averaged model's: make it the worst
        metrics = real_validate(self, models, loader)
        calls.append(metrics["error_rate"])
        return dict(metrics, error_rate=metrics["error_rate"] + 1000.0) if len(calls) == 3 else metrics

    monkeypatch.setattr(ToyCtcTask, "validate", validate)
    final = load_checkpoint(train(toy_config, tmp_path))
    assert len(calls) == 3
    best = load_checkpoint(tmp_path / "last.pt")["best"]["entries"][0]["file"]
    assert final["averaged_from"] == [best]
    for key, value in final["models"]["toy"].items():
        assert torch.equal(value, params(tmp_path / best)[key]), key


def test_resume_after_kill_continues_the_same_trajectory(toy_config, tmp_path):
    train(toy_config, tmp_path / "full")
    # 6 batches = 3 steps per epoch: the 10th batch is epoch 2's 4th, the 2nd of the window after step 4
    killed = dict(toy_config, toy_crash_after_batches=9)
    with pytest.raises(KeyboardInterrupt):
        train(killed, tmp_path / "resumed")
    interrupted = load_checkpoint(tmp_path / "resumed" / "last.pt")
    assert not interrupted["finished"] and interrupted["step"] == 4 and interrupted["batches_done"] == 2
    train(toy_config, tmp_path / "resumed")
    full, resumed = load_checkpoint(tmp_path / "full" / "last.pt"), load_checkpoint(tmp_path / "resumed" / "last.pt")
    assert resumed["step"] == full["step"]
    for key, value in full["models"]["toy"].items():
        assert torch.equal(value, resumed["models"]["toy"][key]), key
    assert [h["step"] for h in resumed["history"]] == [h["step"] for h in full["history"]]
    assert resumed["per_rank"][0]["task"] == full["per_rank"][0]["task"]


def test_rerun_of_a_finished_run_does_not_train_again(toy_config, tmp_path):
    train(toy_config, tmp_path)
    before = load_checkpoint(tmp_path / "last.pt")
    train(dict(toy_config, toy_crash_after_batches=1), tmp_path)  # would raise if it trained
    assert load_checkpoint(tmp_path / "last.pt")["step"] == before["step"]


def test_non_finite_batches_are_skipped_then_abort(toy_config, feature_corpus, tmp_path, caplog):
    one_bad = dict(toy_config, toy_nan_cuts=["xx-000"])
    train(one_bad, tmp_path / "one")
    assert "non-finite loss, skipping batch" in caplog.text and "xx-000" in caplog.text
    for value in load_checkpoint(tmp_path / "one" / "final.pt")["models"]["toy"].values():
        assert torch.isfinite(value).all()
    all_bad = dict(toy_config, toy_nan_cuts=[f"{p}-{i:03d}" for p in ("xx", "yy") for i in range(30)])
    all_bad["train"] = dict(toy_config["train"], max_bad_batches=3)
    with pytest.raises(RuntimeError, match="3 batches in a row had a non-finite loss"):
        train(all_bad, tmp_path / "all")


def test_short_utterances_are_filtered_with_a_count(toy_config, feature_corpus, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    train(dict(toy_config, train=dict(toy_config["train"], max_epochs=1)), tmp_path)
    assert "train set: kept 40 cuts" in caplog.text and "rejected 3 as untrainable" in caplog.text
    assert feature_corpus["short_ids"][0] in caplog.text


def test_unknown_settings_are_errors(toy_config, tmp_path):
    bad = dict(toy_config, train=dict(toy_config["train"], max_epoch=3))
    with pytest.raises(ValueError, match="unknown train settings: max_epoch"):
        train(bad, tmp_path)


def test_log_averages_each_statistic_over_the_batches_that_reported_it():
    stats = [{"loss": 1.0, "cache_per": 30.0}, {"loss": 3.0}, {"loss": 2.0, "cache_per": 10.0}]
    assert average_stats(stats) == {"cache_per": 20.0, "loss": 2.0}
    assert average_stats([]) == {}


def png_size(path) -> tuple:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # IHDR width, height


def test_task_panels_are_drawn_in_curves_png(toy_config, tmp_path, monkeypatch):
    """Two panels of the task's own statistics join loss, error rate and lr: five panels, two rows of four."""
    panels = [("gradient norm", [("train", "grad_norm")]), ("utterances", [("train", "utts"), ("dev", "utts")])]
    monkeypatch.setattr(ToyCtcTask, "plot_panels", lambda self: panels, raising=False)
    train(dict(toy_config, train=dict(toy_config["train"], max_epochs=1)), tmp_path)
    assert png_size(tmp_path / "curves.png") == (4 * 5 * 80, 2 * 3.6 * 80)


def test_monitor_collects_each_panels_series(tmp_path):
    monitor = TrainingMonitor(tmp_path)
    monitor.record("train", 1, {"loss": 2.0, "accept_rate": 0.9})
    monitor.record("train", 2, {"loss": 1.5})
    monitor.record("dev", 2, {"loss": 1.7, "error_rate": 40.0})
    monitor.record("train", 3, {"loss": 1.0, "accept_rate": 0.95})
    panels = [("acceptance", [("train", "accept_rate"), ("dev", "accept_rate")]), ("loss", [("train", "loss")])]
    assert monitor.series(panels) == [("acceptance", [("train accept_rate", [1, 3], [0.9, 0.95])]),
                                      ("loss", [("train loss", [1, 2, 3], [2.0, 1.5, 1.0])])]
    assert png_size(monitor.plot("PER", panels)) == (4 * 5 * 80, 2 * 3.6 * 80)
    assert png_size(monitor.plot("PER")) == (3 * 5 * 80, 3.6 * 80)
    # the dev error rate is drawn whatever the task calls it (a panel titled WER once plotted nothing)
    assert monitor.series(monitor.panels("WER"))[1] == ("WER", [("dev error_rate", [2], [40.0])])
    monitor.close()
