"""A mistake in a training config ends the worker with one line naming the file, the mistake and the fix."""
from __future__ import annotations

import pytest
from toy_task import ToyCtcTask
from train_worker import error_lines, run_train

from phonasr.train.settings import parse_section
from phonasr.train.trainer import TrainSettings
from phonasr.utils.config import ConfigError


@pytest.mark.parametrize("config, expected", [
    ({"task": "ctc", "train": {"max_epoch": 3, "device": "cpu"}},
     "unknown train settings: max_epoch (did you mean max_epochs? known train settings: accum_grad, "),
    ({"task": "ctc", "tokenizer_dir": "data/lang_phone", "train": {"device": "cpu"}},
     "a ctc task config needs model (add model: {type: conformer, preset: tiny})"),
    ({"task": "ctc", "tokenizer_dir": "data/lang_phone", "model": {"type": "conformer", "num_block": 2},
      "train": {"device": "cpu"}},
     "unknown conformer model settings ['num_block']; allowed: type, preset, "),
], ids=["unknown-key", "missing-model", "unknown-model-key"])
def test_config_mistake_is_one_line_and_exit_status_2(config, expected, tmp_path):
    run = run_train(config, tmp_path / "bad.yaml", tmp_path / "exp")
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    errors = error_lines(run.stderr)
    assert len(errors) == 1 and errors[0].startswith(f"error: {tmp_path / 'bad.yaml'}: {expected}"), run.stderr


class BrokenTask(ToyCtcTask):
    """A task with a bug: what fails in code, not in the config."""

    def build_models(self):
        raise RuntimeError("a bug in the task")


def test_a_bug_is_no_config_error(tmp_path):
    """Only config mistakes are shortened: anything else keeps its traceback (and its exit status 1)."""
    run = run_train({"task": "test_config_errors:BrokenTask", "train": {"device": "cpu"}}, tmp_path / "c.yaml",
                    tmp_path / "exp")
    assert run.returncode == 1 and "Traceback" in run.stderr and "RuntimeError: a bug in the task" in run.stderr
    assert not error_lines(run.stderr)


def test_value_checks_of_a_section_are_config_errors():
    with pytest.raises(ConfigError, match=r"train.amp_dtype must be float16 or bfloat16, not 'fp8' \(change it in "
                                          r"the train: section\)"):
        parse_section(TrainSettings, {"amp_dtype": "fp8"}, "train")
    with pytest.raises(ConfigError, match=r"unknown train settings: colour \(known train settings: accum_grad"):
        parse_section(TrainSettings, {"colour": "red"}, "train")


def test_unknown_train_device_is_a_config_error(tmp_path):
    run = run_train({"task": "ctc", "train": {"device": "tpu"}}, tmp_path / "dev.yaml", tmp_path / "exp")
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert error_lines(run.stderr) == [
        f"error: {tmp_path / 'dev.yaml'}: train.device must be auto, cpu or cuda (a process per GPU), not 'tpu' "
        "(set train.device: auto or cpu, or --set train.device=cpu)"]
