"""The one training loop every phonasr model uses (DDP, AMP, resume, checkpoints, TensorBoard, plots).

:class:`~phonasr.train.trainer.Trainer` runs a :class:`~phonasr.train.task.Task`; ``phonasr.train.ctc_task``
is the acoustic CTC task (phonemes or subwords), ``phonasr.train.token_task`` the token-pair CTC task of the P2G
and G2P. Workers start it through ``python -m phonasr.bin.train``.
"""
from __future__ import annotations

from phonasr.train.task import Task, build_task
from phonasr.train.trainer import Trainer

__all__ = ["Task", "Trainer", "build_task"]
