"""Process-group bookkeeping for single-process and torchrun (DDP) training.

torchrun exports ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; a plain ``python -m phonasr.bin.train`` has none of
them and runs as a world of one. Every collective the trainer needs goes through :class:`DistContext`, so the
training loop reads the same whether one process or many are running.

The process group's timeout is the ``distributed:`` config section's (:class:`DistSettings`): validation and
checkpoint averaging run on rank 0 while the other ranks wait in a collective, and torch's default (10 minutes
for NCCL) would kill a large dev set's validation.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional

import torch
import torch.distributed as dist

from phonasr.train.settings import parse_section
from phonasr.utils.device import DeviceUnavailable, choose_device


@dataclass
class DistSettings:
    """The ``distributed:`` section of a training config (only used under torchrun)."""

    # minutes a rank may wait in a collective (e.g. for rank 0's validation, or a slow checkpoint write) before
    # the job fails; generous, because a hung job is rare and a killed validation loses the epoch
    timeout_min: float = 120.0

    def __post_init__(self) -> None:
        if not self.timeout_min > 0:
            raise ValueError(f"distributed.timeout_min must be positive, got {self.timeout_min}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DistSettings:
        return parse_section(cls, config.get("distributed"), "distributed")


@dataclass
class DistContext:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def from_env(cls, device: str = "auto", settings: Optional[DistSettings] = None) -> DistContext:
        """Join the process group torchrun describes (nccl on GPU, gloo on CPU), or run alone without one.

        ``device``: ``auto`` (the local GPU when there is one), ``cpu`` or ``cuda``; ``settings``: the
        collectives' timeout (default :class:`DistSettings`).
        """
        settings = settings or DistSettings()
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device not in ("auto", "cpu", "cuda"):
            raise DeviceUnavailable(f"train.device must be auto, cpu or cuda (a process per GPU), not '{device}'")
        dev = choose_device(device, cuda_index=local_rank)
        use_cuda = dev.type == "cuda"
        if use_cuda:
            torch.cuda.set_device(dev)
        if world_size > 1 and not dist.is_initialized():
            dist.init_process_group(backend="nccl" if use_cuda else "gloo", rank=rank, world_size=world_size,
                                    timeout=datetime.timedelta(minutes=settings.timeout_min))
        return cls(rank=rank, local_rank=local_rank, world_size=world_size, device=dev)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def all_gather_object(self, obj: Any) -> List[Any]:
        """Every rank's ``obj``, in rank order (a one-element list when running alone)."""
        if not self.distributed:
            return [obj]
        out: List[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def broadcast_object(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def all_true(self, flag: bool) -> bool:
        """True only when ``flag`` holds on every rank: decisions such as skipping a batch must be collective,
        or the ranks' gradient all-reduces fall out of step and the job hangs."""
        if not self.distributed:
            return flag
        t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MIN)
        return bool(t.item())

    def shutdown(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()
