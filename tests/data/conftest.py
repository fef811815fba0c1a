"""A tiny synthetic CommonVoice corpus built once per session for the data tests."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.data.synth_helpers import build_corpus, tiny_config, write_config


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> tuple[Path, Path]:
    """(corpus root, config path) of a finished two-language corpus; tests must not modify it (copy it)."""
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required; run `bash utils/install.sh` (installs requirements/apt.txt)")
    work = tmp_path_factory.mktemp("synth")
    config = write_config(work / "synth.yaml", tiny_config(work))
    build_corpus(config, work / "corpus")
    return work / "corpus", config


@pytest.fixture
def corpus_copy(tiny_corpus, tmp_path) -> tuple[Path, Path]:
    root, config = tiny_corpus
    shutil.copytree(root, tmp_path / "corpus")
    return tmp_path / "corpus", config
