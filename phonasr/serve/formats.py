"""The output formats of ``phonasr transcribe``, one function per format, each returning one input's lines.

- ``text``: ``name<TAB>text``;
- ``json``: one JSON object per line (JSON Lines): name, text, phonemes (the latent h, space-separated IPA),
  words with start/end seconds from the CTC alignment, scores (S2P log P(h|x), P2G log P(y|h); with
  ``--decoder lm`` the best paths' graph and acoustic costs instead), duration;
- ``ctm``: NIST CTM, ``name 1 start duration word`` per word (times in seconds, channel 1).
"""
from __future__ import annotations

import json
from typing import Callable, Dict

from phonasr.serve.recognizer import Transcript


def as_text(t: Transcript) -> str:
    return f"{t.name}\t{t.text}\n"


def as_json(t: Transcript) -> str:
    scores = ({"s2p": round(t.s2p_score, 4), "p2g": round(t.p2g_score, 4)} if t.graph_cost is None else
              {"graph": round(t.graph_cost, 4), "acoustic": round(t.acoustic_cost or 0.0, 4)})
    record = {"name": t.name, "text": t.text, "phonemes": t.phonemes,
              "words": [{"word": w.word, "start": w.start, "end": w.end} for w in t.words], "scores": scores,
              "duration": round(t.duration, 3), "segments": t.segments}
    return json.dumps(record, ensure_ascii=False) + "\n"


def as_ctm(t: Transcript) -> str:
    name = "_".join(t.name.split())  # CTM fields are separated by white space
    return "".join(f"{name} 1 {w.start:.2f} {max(w.end - w.start, 0.0):.2f} {w.word}\n" for w in t.words)


FORMATS: Dict[str, Callable[[Transcript], str]] = {"text": as_text, "json": as_json, "ctm": as_ctm}
