"""The process group gets the config's collective timeout (rank 0 validates while the others wait)."""
from __future__ import annotations

import datetime

import pytest

from phonasr.train import distributed
from phonasr.train.distributed import DistContext, DistSettings


@pytest.fixture
def torchrun_env(monkeypatch) -> dict:
    """Rank 1 of 2 as torchrun describes it, with init_process_group recorded instead of joining a group."""
    calls: dict = {}
    for key, value in {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda **kwargs: calls.update(kwargs))
    return calls


def test_process_group_timeout_comes_from_the_config(torchrun_env):
    ctx = DistContext.from_env("cpu", DistSettings.from_config({"distributed": {"timeout_min": 45}}))
    assert (ctx.rank, ctx.world_size) == (1, 2)
    assert torchrun_env["backend"] == "gloo" and torchrun_env["timeout"] == datetime.timedelta(minutes=45)


def test_default_timeout_is_generous(torchrun_env):
    DistContext.from_env("cpu", DistSettings.from_config({}))
    assert torchrun_env["timeout"] >= datetime.timedelta(hours=1)


def test_distributed_settings_are_checked():
    with pytest.raises(ValueError, match="unknown distributed settings: timeout"):
        DistSettings.from_config({"distributed": {"timeout": 10}})
    with pytest.raises(ValueError, match="timeout_min must be positive"):
        DistSettings.from_config({"distributed": {"timeout_min": 0}})
