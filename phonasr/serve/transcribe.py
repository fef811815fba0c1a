"""The batch driver of ``phonasr transcribe``: read inputs, batch them by duration, decode, write, and keep
going past inputs that fail.

Inputs are read one by one and gathered until a batch holds ``batch_seconds`` of audio (a long recording is a
batch of its own; the recognizer chunks it). An input whose audio cannot be read (missing, not audio, empty)
is reported on stderr as ``error: NAME (SOURCE): reason`` and skipped. A batch whose decoding fails is decoded
again one input at a time, so one bad input never takes the others with it. The caller's exit status is the
number of failed inputs (capped at :data:`MAX_STATUS`).
"""
from __future__ import annotations

import logging
import sys
from typing import Callable, List, Optional, Sequence, TextIO, Tuple

import numpy as np

from phonasr.serve.audio import AudioInputError
from phonasr.serve.formats import FORMATS
from phonasr.serve.inputs import AudioInput
from phonasr.serve.recognizer import Recognizer, Transcript

logger = logging.getLogger(__name__)

MAX_STATUS = 100  # exit statuses above 125 mean "killed by a signal" to shells; 100 stays clear of them


def exit_status(failed: int) -> int:
    return min(failed, MAX_STATUS)


def transcribe(recognizer: Recognizer, inputs: Sequence[AudioInput], out: TextIO, *, output_format: str = "text",
               batch_seconds: float = 120.0, channel: Optional[int] = None, progress: Optional[bool] = None,
               errors: TextIO = sys.stderr) -> int:
    """Transcribe ``inputs`` into ``out`` in ``output_format``, in input order; return the number that failed.
    ``progress``: a progress bar on stderr (None: when stderr is a terminal and there is more than one input)."""
    from tqdm import tqdm

    write = FORMATS[output_format]
    rate = recognizer.config.sample_rate
    failed = 0

    def fail(item: AudioInput, reason: str) -> None:
        nonlocal failed
        failed += 1
        errors.write(f"error: {item.name} ({item.source}): {reason}\n")
        errors.flush()

    def flush(batch: List[Tuple[AudioInput, np.ndarray]]) -> None:
        for transcript in _decode(recognizer, batch, fail):
            out.write(write(transcript))
        out.flush()

    bar = tqdm(total=len(inputs), unit="file", disable=(len(inputs) < 2 or None) if progress is None
               else not progress, file=sys.stderr)
    batch: List[Tuple[AudioInput, np.ndarray]] = []
    seconds = 0.0
    for item in inputs:
        try:
            samples = item.load(rate, channel)
        except AudioInputError as e:
            fail(item, str(e))
            bar.update(1)
            continue
        if batch and seconds + len(samples) / rate > batch_seconds:
            flush(batch)
            bar.update(len(batch))
            batch, seconds = [], 0.0
        batch.append((item, samples))
        seconds += len(samples) / rate
    if batch:
        flush(batch)
        bar.update(len(batch))
    bar.close()
    return failed


def _decode(recognizer: Recognizer, batch: List[Tuple[AudioInput, np.ndarray]],
            fail: Callable[[AudioInput, str], None]) -> List[Transcript]:
    try:
        return recognizer.recognize([item.name for item, _ in batch], [s for _, s in batch])
    except Exception as e:  # noqa: BLE001 - isolate the input that broke the batch, keep the others
        if len(batch) == 1:
            logger.debug("decoding %s failed", batch[0][0].name, exc_info=True)
            fail(batch[0][0], f"decoding failed: {type(e).__name__}: {' '.join(str(e).split())[:300]}")
            return []
        return [t for one in batch for t in _decode(recognizer, [one], fail)]
