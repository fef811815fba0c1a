"""Raw text of a language from files that Debian packages install, as paragraphs.

A source is written ``kind:arg``:

* ``fortune:pl``  -- fortune cookies, /usr/share/games/fortunes/pl (package fortunes-pl)
* ``man:de``      -- translated manual pages, /usr/share/man/de (packages manpages-de, ...; groff markup removed)
* ``gettext:id``  -- translated program messages, /usr/share/locale/id/LC_MESSAGES/*.mo
* ``wordlist:pl`` -- hunspell dictionary words in random order, /usr/share/hunspell/pl_*.dic (last resort: these
  are not sentences)
* ``file:/a/b.txt`` -- a UTF-8 text file, paragraphs separated by blank lines

Readers only extract text; whether a sentence is speakable is decided in :mod:`phonasr.data.synth.sentences`.
Files are listed in sorted order, so a seeded shuffle of them gives the same text on every run.
"""
from __future__ import annotations

import gzip
import random
import re
import struct
from pathlib import Path
from typing import Callable, Iterator

FORTUNE_DIR = Path("/usr/share/games/fortunes")
MAN_DIR = Path("/usr/share/man")
LOCALE_DIR = Path("/usr/share/locale")
HUNSPELL_DIR = Path("/usr/share/hunspell")

Paragraphs = Iterator[str]


def source_files(spec: str) -> list[Path]:
    """The files of one ``kind:arg`` source in sorted order; an unknown kind or no files is an error."""
    kind, _, arg = spec.partition(":")
    if kind not in READERS or not arg:
        raise ValueError(f"text source '{spec}': expected one of {sorted(READERS)} as kind:arg")
    finder, _ = READERS[kind]
    files = finder(arg)
    if not files:
        raise FileNotFoundError(f"text source '{spec}' has no files; {_INSTALL_HINT[kind].format(arg=arg)}")
    return files


def read_paragraphs(spec: str, path: Path) -> Paragraphs:
    """Paragraphs of one file of source ``spec`` (one of :func:`source_files`)."""
    _, reader = READERS[spec.partition(":")[0]]
    return reader(path)


# --- fortune ---------------------------------------------------------------------------------------------------

def fortune_files(lang: str) -> list[Path]:
    # fortunes-pl ships the cookies as UTF-8 plain files next to .dat indexes (and empty .u8 placeholders).
    folder = FORTUNE_DIR / lang
    return sorted(p for p in folder.glob("*") if p.is_file() and p.suffix != ".dat" and p.stat().st_size > 0)


def fortune_paragraphs(path: Path) -> Paragraphs:
    """Each cookie is one paragraph; attribution lines (``-- Author``) and chat logs (``<nick>``) are dropped."""
    text = path.read_text(encoding="utf-8", errors="replace")
    for cookie in re.split(r"^%\s*$", text, flags=re.MULTILINE):
        lines = [ln.strip() for ln in cookie.splitlines()]
        kept = [ln for ln in lines if ln and not ln.startswith(("--", "—", "<", "*", "[", "|"))]
        if kept:
            yield " ".join(kept)


# --- man pages -------------------------------------------------------------------------------------------------

# Macros whose arguments are running text (fonts); every other request breaks the paragraph.
_TEXT_MACROS = {"B", "I", "BI", "IB", "BR", "RB", "IR", "RI", "SM", "SB"}
# Requests that start verbatim blocks (examples, code): their contents are skipped until the matching end.
_VERBATIM = {"nf": "fi", "EX": "EE", "TS": "TE", "EQ": "EN"}
_FONT = re.compile(r"\\f(?:\[[^\]]*\]|\(..|.)")
_SIZE = re.compile(r"\\s[-+]?\d")
_SPECIAL = {r"\(em": "—", r"\(en": "–", r"\(lq": "„", r"\(rq": "”", r"\(aq": "'", r"\(hy": "-", r"\-": "-",
            r"\&": "", r"\|": "", r"\^": "", r"\ ": " ", r"\~": " ", r"\c": ""}


def groff_to_text(line: str) -> str:
    """Remove font/size escapes and map common special characters; other escapes stay (so they get filtered)."""
    line = _SIZE.sub("", _FONT.sub("", line))
    for escape, char in _SPECIAL.items():
        line = line.replace(escape, char)
    return line


def man_files(lang: str) -> list[Path]:
    return sorted((MAN_DIR / lang).glob("man*/*.gz"))


def man_paragraphs(path: Path) -> Paragraphs:
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        return groff_paragraphs(f.read().splitlines())


def groff_paragraphs(lines: list[str]) -> Paragraphs:
    """Running text of a groff page: requests break paragraphs, font macros contribute text, verbatim is skipped."""
    paragraph: list[str] = []
    verbatim_end = None
    for line in lines:
        is_request = line.startswith((".", "'"))
        name, _, args = line[1:].strip().partition(" ") if is_request else ("", "", "")
        if verbatim_end is not None:
            verbatim_end = None if name == verbatim_end else verbatim_end
            continue
        if is_request and name in _TEXT_MACROS:
            paragraph.append(groff_to_text(args.replace('"', "")))
            continue
        if is_request or not line.strip():
            if paragraph:
                yield " ".join(paragraph)
            paragraph = []
            verbatim_end = _VERBATIM.get(name) if is_request else None
            continue
        paragraph.append(groff_to_text(line.strip()))
    if paragraph:
        yield " ".join(paragraph)


# --- gettext catalogues ----------------------------------------------------------------------------------------

def gettext_files(lang: str) -> list[Path]:
    return sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.mo"))


def gettext_paragraphs(path: Path) -> Paragraphs:
    for message in read_mo_translations(path.read_bytes()):
        yield from (part for part in message.split("\n\n") if part.strip())


def read_mo_translations(data: bytes) -> list[str]:
    """Translated strings of a GNU .mo catalogue (first plural form; the metadata entry skipped).

    Format: magic, revision, count N, offset of the original-string table, offset of the translation table;
    each table holds N (length, offset) pairs. Corrupt catalogues give an empty list rather than an exception,
    since they are just one of many text files.
    """
    if len(data) < 20:
        return []
    for order in ("<", ">"):
        magic, _, count, orig_table, trans_table = struct.unpack(order + "5I", data[:20])
        if magic == 0x950412DE:
            break
    else:
        return []
    messages = []
    try:
        for i in range(count):
            orig_len, _ = struct.unpack_from(order + "2I", data, orig_table + 8 * i)
            length, offset = struct.unpack_from(order + "2I", data, trans_table + 8 * i)
            if orig_len == 0:  # the catalogue's metadata header
                continue
            messages.append(data[offset:offset + length].split(b"\0")[0].decode("utf-8", errors="replace"))
    except struct.error:
        return []
    return messages


# --- word lists ------------------------------------------------------------------------------------------------

def wordlist_files(lang: str) -> list[Path]:
    return sorted(HUNSPELL_DIR.glob(f"{lang}_*.dic"))[:1]


def wordlist_paragraphs(path: Path, words_per_line: int = 8) -> Paragraphs:
    """Dictionary words in a fixed random order, eight to a capitalised "sentence": a last resort."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]
    words = [w.split("/")[0] for w in lines if w and w.split("/")[0].islower()]
    random.Random(path.name).shuffle(words)
    for start in range(0, len(words) - words_per_line, words_per_line):
        yield " ".join(words[start:start + words_per_line]).capitalize() + "."


# --- plain files -----------------------------------------------------------------------------------------------

def plain_files(path: str) -> list[Path]:
    return [Path(path)] if Path(path).is_file() else []


def plain_paragraphs(path: Path) -> Paragraphs:
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        if block.strip():
            yield " ".join(block.split())


READERS: dict[str, tuple[Callable[[str], list[Path]], Callable[[Path], Paragraphs]]] = {
    "fortune": (fortune_files, fortune_paragraphs),
    "man": (man_files, man_paragraphs),
    "gettext": (gettext_files, gettext_paragraphs),
    "wordlist": (wordlist_files, wordlist_paragraphs),
    "file": (plain_files, plain_paragraphs),
}
_INSTALL_HINT = {
    "fortune": "install the Debian package fortunes-{arg}",
    "man": "install the Debian package manpages-{arg}",
    "gettext": "no /usr/share/locale/{arg}/LC_MESSAGES/*.mo on this system",
    "wordlist": "install the Debian package hunspell-{arg}",
    "file": "{arg} is not a file",
}
