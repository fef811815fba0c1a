"""The frame_ce task: cross-entropy against frame labels, the span masking, and a checkpoint an S2P reader loads."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import torch
from lhotse import CutSet, Features, MonoCut, NumpyFilesWriter, SupervisionSegment

from phonasr.decode.ctc import load_acoustic_model
from phonasr.models import subsampled_lengths
from phonasr.models.stored import model_checkpoint
from phonasr.tokenizers import PhonemeTokenizer, save_tokenizer
from phonasr.train.ctc_task import CtcTask
from phonasr.train.distributed import DistContext
from phonasr.train.trainer import Trainer
from phonasr.units.frame_task import FrameCeTask, SpanMask
from phonasr.units.store import save_arrays
from phonasr.utils.config import ConfigError
from phonasr.utils.io import atomic_torch_save

UNITS = ["a", "b", "c", "d", "e", "f"]
SYMBOLS = ["<blk>", *UNITS]
BINS = 80
FRAMES_PER_UNIT = 8  # fbank frames: two encoder frames


def write_corpus(tmp_path: Path, name: str, num: int, seed: int) -> Dict[str, torch.Tensor]:
    """``num`` cuts of 3-6 units, each unit its own mean vector for 8 fbank frames (plus noise), written to
    ``<name>.jsonl.gz``; returns their true frame labels: encoder frame t covers fbank frames 4t..4t+6, so its
    label is the unit at fbank frame 4t+3."""
    rng = np.random.default_rng(seed)
    means = np.random.default_rng(0).standard_normal((len(UNITS), BINS)) * 2.0
    cuts, labels = [], {}
    with NumpyFilesWriter(tmp_path / "storage") as writer:
        for i in range(num):
            units = rng.integers(0, len(UNITS), size=int(rng.integers(3, 7)))
            per_frame = np.repeat(units, FRAMES_PER_UNIT)
            feats = (means[per_frame] + 0.3 * rng.standard_normal((per_frame.size, BINS))).astype(np.float32)
            cut_id = f"{name}-{i:02d}"
            frames = int(subsampled_lengths(torch.tensor([per_frame.size]))[0])
            labels[cut_id] = torch.tensor(per_frame[4 * np.arange(frames) + 3] + 1, dtype=torch.long)
            duration = per_frame.size * 0.01
            features = Features(type="fbank", num_frames=per_frame.size, num_features=BINS, frame_shift=0.01,
                                sampling_rate=16000, start=0.0, duration=duration, storage_type=writer.name,
                                storage_path=str(writer.storage_path), storage_key=writer.write(cut_id, feats),
                                recording_id=cut_id)
            phones = " ".join(UNITS[u] for u in units)
            sup = SupervisionSegment(id=cut_id, recording_id=cut_id, start=0.0, duration=duration, text=phones,
                                     language="xx", custom={"phones": phones})
            cuts.append(MonoCut(id=cut_id, start=0.0, duration=duration, channel=0, supervisions=[sup],
                                features=features))
    CutSet.from_cuts(cuts).to_file(tmp_path / f"{name}.jsonl.gz")
    return labels


def write_labels(path: Path, labels: Dict[str, torch.Tensor], symbols: List[str] = SYMBOLS) -> str:
    save_arrays(path, "frame_labels", labels, {"symbols": symbols, "lang_dir": "lang"})
    return str(path)


def frame_config(tmp_path: Path, label_files, **extra) -> dict:
    lang = tmp_path / "lang"
    save_tokenizer(PhonemeTokenizer.from_units(UNITS), lang)
    return {"task": "frame_ce", "seed": 3, "tokenizer_dir": str(lang),
            "model": {"type": "conformer", "preset": "tiny", "num_blocks": 1},
            "data": {"train": str(tmp_path / "train.jsonl.gz"), "dev": str(tmp_path / "dev.jsonl.gz"),
                     "frame_labels": label_files, "max_duration": 1.5, "num_buckets": 2, "num_workers": 0},
            **extra}


@pytest.fixture
def one_thread():
    """Training tests on one thread: on a busy 2-core machine two torch threads were 40x slower than one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class FixedOutput(torch.nn.Module):
    """A stand-in model whose log-posteriors are given: the loss can then be checked by hand."""

    def __init__(self, log_probs: torch.Tensor, lengths: List[int]) -> None:
        super().__init__()
        self.log_probs, self.lengths = log_probs, torch.tensor(lengths)

    def forward(self, feats: torch.Tensor, lens: torch.Tensor):
        return self.log_probs, self.lengths


def target_probs(targets: List[int], probs: List[float], frames: int) -> torch.Tensor:
    """(frames, 7) log-posteriors giving ``targets[t]`` probability ``probs[t]``, the rest shared evenly."""
    table = torch.full((frames, len(SYMBOLS)), 1.0)
    for t, (target, p) in enumerate(zip(targets, probs)):
        table[t] = (1 - p) / (len(SYMBOLS) - 1)
        table[t, target] = p
    return table.log()


def test_cross_entropy_and_accuracy_of_a_hand_checked_case(tmp_path):
    """Labels [1, 2, 0] get probabilities 1/2, 1/4, 1/8: the CE is (1 + 2 + 3) / 3 * ln 2 = 2 ln 2; the third
    frame's label loses to the others' 7/48 each, so 2 of 3 frames are right, both phoneme frames among them. The
    padded 4th frame and the unlabelled second cut count nowhere."""
    labels = write_labels(tmp_path / "l.pt", {"u": torch.tensor([1, 2, 0])})
    task = FrameCeTask(frame_config(tmp_path, labels), torch.device("cpu"))
    first = target_probs([1, 2, 0, 0], [0.5, 0.25, 0.125, 0.9], 4)
    batch = {"features": torch.zeros(1, 20, BINS), "feature_lens": torch.tensor([20]), "cut_ids": ["u"]}
    loss, stats, frames = task.compute_loss({"s2p": FixedOutput(first[None], [3])}, batch)
    assert loss.item() == pytest.approx(2 * math.log(2)) and stats["frame_acc"] == pytest.approx(200 / 3)
    assert frames == 20
    dev = {"features": torch.zeros(2, 20, BINS), "feature_lens": torch.tensor([20, 20]), "cut_ids": ["u", "v"]}
    model = FixedOutput(torch.stack([first, first]), [3, 4])
    metrics = task.validate({"s2p": model}, [dev])
    assert metrics["loss"] == pytest.approx(2 * math.log(2)) and metrics["error_rate"] == pytest.approx(100 / 3)
    assert metrics["phone_frame_acc"] == 100.0 and (metrics["utts"], metrics["unlabelled"]) == (1, 1)
    with pytest.raises(ConfigError, match="cut 'u' has 4 encoder frames but 3 frame labels"):
        task.compute_loss({"s2p": FixedOutput(first[None], [4])}, batch)


def test_training_steps_reduce_the_cross_entropy(tmp_path, one_thread):
    labels = write_labels(tmp_path / "l.pt", write_corpus(tmp_path, "train", 6, seed=1))
    config = frame_config(tmp_path, labels)
    config["data"]["dev"] = config["data"]["train"]
    task = FrameCeTask(config, torch.device("cpu"))
    torch.manual_seed(0)
    models = task.initialize(task.build_models())
    batch = next(iter(task.build_data(seed=0, world_size=1, rank=0).train_loader))
    optimizer = torch.optim.Adam(models["s2p"].parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        loss, _, _ = task.compute_loss(models, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_span_mask_share_and_the_hook_masks_in_training_only(tmp_path):
    torch.manual_seed(0)
    mask = SpanMask(prob=0.5, span=5)
    masked = mask.frames(50, 2000, torch.device("cpu"))
    assert masked.float().mean().item() == pytest.approx(1 - (1 - 0.1) ** 5, abs=0.01)
    runs = torch.diff(torch.cat([torch.tensor([0]), masked[0].int(), torch.tensor([0])])).nonzero().flatten()
    assert (runs[1::2] - runs[::2]).min() >= 5, "every masked run is at least one span long"
    labels = write_labels(tmp_path / "l.pt", {"u": torch.tensor([1])})
    config = frame_config(tmp_path, labels, mask={"prob": 1.0, "span": 1})
    config["model"]["dropout"] = 0.0
    task = FrameCeTask(config, torch.device("cpu"))
    model = task.build_models()["s2p"]
    seen = []
    model.encoder.blocks[0].register_forward_pre_hook(lambda _m, inputs: seen.append(inputs[0].clone()))
    feats, lens = torch.randn(1, 40, BINS), torch.tensor([40])
    model.train()
    model(feats, lens)
    model.eval()
    model(feats, lens)
    assert torch.all(seen[0] == 0) and not torch.all(seen[1] == 0)
    with pytest.raises(ConfigError, match="mask.span"):
        FrameCeTask(frame_config(tmp_path, labels, mask={"prob": 0.5, "span": 0}), torch.device("cpu"))


def test_cuts_without_labels_are_skipped_and_wrong_labels_fail_naming_the_cut(tmp_path):
    truth = write_corpus(tmp_path, "train", 4, seed=1)
    some = {k: v for k, v in truth.items() if k != "train-02"}
    task = FrameCeTask(frame_config(tmp_path, write_labels(tmp_path / "l.pt", some)), torch.device("cpu"))
    cuts = list(CutSet.from_file(tmp_path / "train.jsonl.gz"))
    assert [task.keep_cut(c) for c in cuts] == [True, True, False, True] and task.unlabelled == ["train-02"]
    short = dict(truth, **{"train-01": truth["train-01"][:-1]})
    task = FrameCeTask(frame_config(tmp_path, write_labels(tmp_path / "s.pt", short)), torch.device("cpu"))
    with pytest.raises(ConfigError, match="cut 'train-01' has .* encoder frames but .* frame labels"):
        task.keep_cut(cuts[1])


def test_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="needs data.frame_labels"):
        FrameCeTask(frame_config(tmp_path, None), torch.device("cpu"))
    with pytest.raises(ConfigError, match="does not exist"):
        FrameCeTask(frame_config(tmp_path, str(tmp_path / "missing.pt")), torch.device("cpu"))
    other = write_labels(tmp_path / "o.pt", {"u": torch.tensor([1])}, symbols=["<blk>", "x"])
    with pytest.raises(ConfigError, match="another phone inventory"):
        FrameCeTask(frame_config(tmp_path, other), torch.device("cpu"))


def test_fine_tuned_checkpoint_loads_as_an_s2p(tmp_path, one_thread):
    """Start from a "pretrained" S2P over another symbol order (the output layer is re-mapped), train two
    epochs with masking, and read final.pt with the decoder's loader."""
    train = write_corpus(tmp_path, "train", 8, seed=1)
    dev = write_corpus(tmp_path, "dev", 3, seed=2)
    source_lang = tmp_path / "source_lang"
    save_tokenizer(PhonemeTokenizer.from_units(list(reversed(UNITS))), source_lang)
    source_config = {"task": "ctc", "tokenizer_dir": str(source_lang),
                     "model": {"type": "conformer", "preset": "tiny", "num_blocks": 1}}
    source = CtcTask(source_config, torch.device("cpu"))
    atomic_torch_save(model_checkpoint(source.build_models(), source_config, source.checkpoint_metadata()),
                      tmp_path / "pretrained.pt")
    config = frame_config(tmp_path, [write_labels(tmp_path / "t.pt", train), write_labels(tmp_path / "d.pt", dev)],
                          mask={"prob": 0.3, "span": 2},
                          init={"checkpoint": str(tmp_path / "pretrained.pt"), "remap_output": True},
                          optim={"name": "adamw", "lr": 3e-3}, schedule={"name": "noam", "warmup_steps": 2},
                          train={"max_epochs": 2, "device": "cpu", "log_every_steps": 2, "keep_best": 1,
                                 "average_best": 1})
    trainer = Trainer(config, tmp_path / "exp", DistContext.from_env("cpu"))
    final = trainer.run()
    am = load_acoustic_model(str(final), None, None, torch.device("cpu"))
    assert am.tokenizer.symbols == SYMBOLS and am.model.vocab_size == len(SYMBOLS)
    dev = [h for h in trainer.monitor.history if h["split"] == "dev"]
    assert len(dev) == 2 and all(0 <= h["frame_acc"] <= 100 and h["unlabelled"] == 0 for h in dev)
