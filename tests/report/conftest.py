"""A small finished run built with the project's own writers: details files (scoring), results.tsv rows, and a JSA
run's TensorBoard scalars (the training monitor)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from phonasr.scoring import score_texts, write_details
from phonasr.scoring.results import HEADER

REFS = {"u1": "ala ma kota", "u2": "kot ma ale", "u3": "to jest dom", "u4": "dom jest duzy"}


def scored_row(recipe: Path, system: str, test_set: str, hyps: Dict[str, str], metric: str = "wer") -> str:
    """Score ``hyps`` against :data:`REFS` into exp/SYSTEM/decode_SET and return its results.tsv line."""
    score = score_texts(REFS, hyps, metric)
    details = Path("exp", system, f"decode_{test_set}", f"errs-{test_set}-{metric}.txt")
    write_details(recipe / details, score, f"{system}/{test_set}")
    c = score.counts
    return f"{system}\t{test_set}\t{metric.upper()}\t{c.rate:.2f}\t{c.errors}/{c.ref_len}\t{details}"


def plain_row(system: str, test_set: str, metric: str, value: float) -> str:
    return f"{system}\t{test_set}\t{metric}\t{value:.2f}\t1/1\texp/{system}/none.txt"


def write_results(exp: Path, lines: List[str]) -> Path:
    exp.mkdir(parents=True, exist_ok=True)
    path = exp / "results.tsv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def finished_run(tmp_path) -> Tuple[Path, Path]:
    """(recipe root, exp): baseline and JSA-SPG rows on test, a stale row under a newer one, an LM, a control."""
    exp = tmp_path / "exp"
    baseline = {"u1": "ala ma kot", "u2": "kot ma", "u3": "to jest", "u4": "dom jest"}
    ours = dict(REFS, u2="kot ma")
    lines = [
        plain_row("s2p_ft_text", "test", "WER", 99.0),  # stale: the scored row below replaces it
        scored_row(tmp_path, "s2p_ft_text", "test", baseline),
        plain_row("s2p_ft_text", "test", "CER", 22.47),
        scored_row(tmp_path, "s2p_ft_text_lm", "test", baseline),
        scored_row(tmp_path, "jsa_aug", "test", ours),
        scored_row(tmp_path, "jsa_aug_mls", "test", ours),
        plain_row("jsa_aug", "test", "PER", 4.27),
        plain_row("lm", "test", "PPL", 776.45),
        plain_row("lm", "test", "OOV", 40.5),
        plain_row("control_longer_ft", "test", "PER", 3.5),
        plain_row("control_longer_ft_lm", "test", "WER", 70.0),
        plain_row("jsa_lda", "test_other", "WER", 30.0),
        plain_row("s2p_pretrain", "dev_cs", "PER", 11.15),
    ]
    write_results(exp, lines)
    from phonasr.train.monitor import TrainingMonitor

    monitor = TrainingMonitor(exp / "jsa")  # what the JSA trainer writes; no cache_per_unlabelled on purpose
    for step in (10, 20, 30):
        monitor.record("train", step, {"accept_rate": 0.2 - step / 1000, "cache_per": 20 + step / 10})
    monitor.record("dev", 20, {"wer": 90.0, "cer": 12.0, "per": 5.0, "error_rate": 90.0})
    monitor.close()
    return tmp_path, exp
