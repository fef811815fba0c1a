"""Render planned clips: espeak-ng speech (+ optional noise) -> mono mp3 made by ffmpeg (48 kHz as in CommonVoice unless
the config says otherwise), plus the IPA.

Why these tools: espeak-ng is the only offline TTS with voices for all corpus languages; mp3s are encoded by
ffmpeg because sox/lame-made mp3 headers declare more samples than decoders return, which breaks manifests that
trust the header. ffmpeg's start-up (~0.15 s) costs more than encoding a clip, so one ffmpeg call encodes a
batch of clips (one input and one output per clip).

Resuming: a clip is written under a temporary name and renamed when complete, and its record
``path<TAB>seconds<TAB>ipa`` is appended to ``.synth/done.<job>.tsv`` only after that. A rerun skips clips that
have a record and a file, whatever the number of jobs was before.
"""
from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf

from phonasr.data.synth.config import LanguageConfig, SynthConfig
from phonasr.data.synth.layout import LanguageLayout
from phonasr.data.synth.plan import PlannedClip, plan_fingerprint, read_plan
from phonasr.phonemes import espeak_ipa

logger = logging.getLogger(__name__)


class SynthesisError(RuntimeError):
    """espeak-ng or ffmpeg failed on a clip."""


def read_done(layout: LanguageLayout) -> dict[str, tuple[float, str]]:
    """Finished clips: path -> (seconds, ipa), from every job's records.

    A job killed while appending leaves a last line without its newline; such a line is ignored, so its clip is
    rendered again.
    """
    done: dict[str, tuple[float, str]] = {}
    for records in layout.all_done_records():
        lines = records.read_text(encoding="utf-8").split("\n")[:-1]
        for line in lines:
            path, seconds, ipa = line.split("\t")
            done[path] = (float(seconds), ipa)
    return done


def drop_partial_record(records: Path) -> None:
    """Cut a job's record file back to its last complete line, so appending never glues onto a partial one."""
    if not records.is_file():
        return
    data = records.read_bytes()
    if data and not data.endswith(b"\n"):
        records.write_bytes(data[:data.rfind(b"\n") + 1])


def espeak_wav(clip: PlannedClip, voice: str, wav_path: Path) -> None:
    """Speak the clip's sentence with its speaker's voice variant, pitch and rate (text on stdin: no option parsing)."""
    cmd = ["espeak-ng", "-v", f"{voice}+{clip.variant}", "-p", str(clip.pitch), "-s", str(clip.rate),
           "-w", str(wav_path)]
    result = subprocess.run(cmd, input=clip.sentence.encode("utf-8"), capture_output=True)
    if result.returncode != 0 or not wav_path.is_file():
        raise SynthesisError(f"espeak-ng failed for {clip.path} ({' '.join(cmd)}): {result.stderr.decode()}")


def add_noise(wav_path: Path, snr_db: float, seed: str) -> None:
    """Add white noise at ``snr_db`` to the wav in place; the noise is seeded by the clip so reruns match."""
    audio, rate = sf.read(wav_path, dtype="float64")
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "little"))
    power = float(np.mean(audio**2)) if audio.size else 0.0
    noise = rng.standard_normal(audio.shape) * np.sqrt(power / 10 ** (snr_db / 10))
    sf.write(wav_path, np.clip(audio + noise, -1.0, 1.0), rate, subtype="PCM_16")


def encode_mp3(wavs: Sequence[Path], mp3s: Sequence[Path], sample_rate: int, quality: int) -> None:
    """One ffmpeg call: wav i -> mp3 i, resampled to ``sample_rate`` mono; bit-exact flags keep reruns identical."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    for wav in wavs:
        cmd += ["-i", str(wav)]
    for i, mp3 in enumerate(mp3s):
        cmd += ["-map", f"{i}:a", "-ar", str(sample_rate), "-ac", "1", "-c:a", "libmp3lame", "-q:a", str(quality),
                "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "mp3", str(mp3)]
    result = subprocess.run(cmd, capture_output=True)
    if result.returncode != 0:
        raise SynthesisError(f"ffmpeg failed encoding {len(wavs)} clips ({mp3s[0].name} ...): "
                             f"{result.stderr.decode()[-2000:]}")


def render_batch(clips: Sequence[PlannedClip], lang_cfg: LanguageConfig, cfg: SynthConfig,
                 layout: LanguageLayout, tmp_dir: Path) -> list[float]:
    """Write the clips' mp3s into clips/ (each appears only when complete); return their durations in seconds."""
    wavs = [tmp_dir / f"{clip.stem}.wav" for clip in clips]
    durations = []
    for clip, wav in zip(clips, wavs):
        espeak_wav(clip, lang_cfg.voice, wav)
        if clip.snr_db is not None:
            add_noise(wav, clip.snr_db, f"{cfg.seed}/{clip.path}")
        info = sf.info(wav)
        durations.append(info.frames / info.samplerate)
    partial = [layout.clips_dir / f".{clip.stem}.partial.mp3" for clip in clips]
    encode_mp3(wavs, partial, cfg.sample_rate, cfg.mp3_quality)
    for tmp, clip in zip(partial, clips):
        os.replace(tmp, layout.clips_dir / clip.path)
    for wav in wavs:
        wav.unlink()
    return durations


def render_job(cfg: SynthConfig, root: Path, lang: str, job: int, num_jobs: int) -> None:
    """Render this job's share of the plan (every ``num_jobs``-th clip, starting at ``job - 1``)."""
    lang_cfg = cfg.language(lang)
    layout = LanguageLayout(root, lang)
    planned_with = plan_fingerprint(layout.plan)
    if planned_with != cfg.fingerprint():
        raise RuntimeError(f"{layout.plan} is missing or was planned with another config ({planned_with}, now "
                           f"{cfg.fingerprint()}): run `python -m phonasr.bin.synth_corpus plan` with this config")
    clips = read_plan(layout.plan)[job - 1::num_jobs]
    done = read_done(layout)
    todo = [c for c in clips if not clip_is_complete(layout, c.path, done)]
    logger.info("%s job %d/%d: %d clips, %d already done, %d to render", lang, job, num_jobs, len(clips),
                len(clips) - len(todo), len(todo))
    layout.clips_dir.mkdir(parents=True, exist_ok=True)
    drop_partial_record(layout.done_records(job))
    start = time.time()
    audio_seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="synth.", dir=layout.work_dir) as tmp, \
            open(layout.done_records(job), "a", encoding="utf-8") as records:
        for first in range(0, len(todo), cfg.batch_size):
            batch = todo[first:first + cfg.batch_size]
            durations = render_batch(batch, lang_cfg, cfg, layout, Path(tmp))
            ipas = espeak_ipa([c.sentence for c in batch], lang_cfg.voice)
            records.write("".join(f"{c.path}\t{d:.3f}\t{ipa}\n" for c, d, ipa in zip(batch, durations, ipas)))
            records.flush()
            audio_seconds += sum(durations)
            elapsed = time.time() - start
            logger.info("%s job %d/%d: %d/%d clips, %.1f s of audio, %.1fx real time", lang, job, num_jobs,
                        first + len(batch), len(todo), audio_seconds, audio_seconds / max(elapsed, 1e-9))


def clip_is_complete(layout: LanguageLayout, path: str, done: dict[str, tuple[float, str]]) -> bool:
    return path in done and (layout.clips_dir / path).is_file()


def missing_clips(layout: LanguageLayout, clips: Sequence[PlannedClip]) -> list[str]:
    done = read_done(layout)
    return [c.path for c in clips if not clip_is_complete(layout, c.path, done)]
