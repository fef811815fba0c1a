"""Reading reference and hypothesis files: one ``utt-id<TAB>text`` per line.

A line without a tab is read Kaldi-style (id, first run of whitespace, text), so Kaldi ``text`` files score
as they are; an id alone means an empty text (a decoder that output nothing).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict


def read_utt_texts(path: str | Path) -> Dict[str, str]:
    """Map utterance id -> text, in file order; duplicate ids are an error naming both lines."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"text file {path} does not exist")
    texts: Dict[str, str] = {}
    first_line: Dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if "\t" in line:
                utt_id, text = line.split("\t", 1)
            else:
                parts = line.split(maxsplit=1)
                utt_id, text = parts[0], parts[1] if len(parts) > 1 else ""
            utt_id = utt_id.strip()
            if not utt_id:
                raise ValueError(f"{path}:{lineno}: empty utterance id; lines must be 'utt-id<TAB>text'")
            if utt_id in texts:
                raise ValueError(f"{path}:{lineno}: utterance {utt_id} already appeared on line {first_line[utt_id]}")
            texts[utt_id] = text.strip()
            first_line[utt_id] = lineno
    return texts
