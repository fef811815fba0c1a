"""Write a language's CommonVoice release files once all its clips are rendered.

``train.tsv dev.tsv test.tsv validated.tsv`` use CommonVoice's header, so any CommonVoice tool (lhotse's recipe,
phonasr's preparation) reads the synthetic corpus like a real release; ``validated.tsv`` holds every split, as in
CommonVoice. ``test_other.tsv`` (same header; only for a language with other-domain text) is the synthetic extra
split of held-out other-domain sentences. ``phonemes.tsv`` (path, raw espeak-ng IPA) is the corpus's ground truth.
"""
from __future__ import annotations

import logging
from pathlib import Path

from phonasr.data.synth.layout import LanguageLayout
from phonasr.data.synth.plan import PlannedClip, clips_by_split, read_plan
from phonasr.data.synth.render import missing_clips, read_done
from phonasr.data.synth.speakers import gender_of
from phonasr.utils.io import atomic_write_text, tsv_text

logger = logging.getLogger(__name__)

COMMONVOICE_COLUMNS = ("client_id", "path", "sentence", "up_votes", "down_votes", "age", "gender", "accents",
                       "variant", "locale", "segment")


class IncompleteCorpusError(RuntimeError):
    """Clips of the plan are missing: synthesis has not finished (or failed) for them."""


def commonvoice_row(clip: PlannedClip, lang: str) -> tuple:
    return (clip.client_id, clip.path, clip.sentence, 2, 0, "", gender_of(clip.variant), "", "", lang, "")


def write_release(root: Path, lang: str) -> dict[str, dict[str, float]]:
    """Write the TSVs of ``lang``; return per split the number of clips, speakers and hours."""
    layout = LanguageLayout(root, lang)
    clips = read_plan(layout.plan)
    missing = missing_clips(layout, clips)
    if missing:
        raise IncompleteCorpusError(
            f"{lang}: {len(missing)} of {len(clips)} planned clips are not rendered (first: {missing[0]}); "
            f"rerun the synthesis jobs (see {layout.work_dir}/log) -- finished clips are kept")
    done = read_done(layout)
    stats: dict[str, dict[str, float]] = {}
    by_split = clips_by_split(clips)
    for split, split_clips in by_split.items():
        rows = [commonvoice_row(c, lang) for c in split_clips]
        atomic_write_text(layout.split_tsv(split), tsv_text([COMMONVOICE_COLUMNS, *rows]))
        stats[split] = {"clips": len(rows), "speakers": len({c.client_id for c in split_clips}),
                        "hours": sum(done[c.path][0] for c in split_clips) / 3600}
    validated = [commonvoice_row(c, lang) for c in clips]
    atomic_write_text(layout.split_tsv("validated"), tsv_text([COMMONVOICE_COLUMNS, *validated]))
    atomic_write_text(layout.phonemes, tsv_text([("path", "ipa"), *((c.path, done[c.path][1]) for c in clips)]))
    for split, s in stats.items():
        logger.info("%s %s: %d clips, %d speakers, %.2f h", lang, split, s["clips"], s["speakers"], s["hours"])
    return stats
