"""Text normalisation, sentence cleaning and the Debian text-source readers."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest

from phonasr.data.synth.sentences import SentencePool, clean_sentence, split_sentences
from phonasr.text import sources as text_sources
from phonasr.text.normalise import casefold, normalise_text


def test_normalise_text_folds_case_drops_punctuation_keeps_digits_and_word_apostrophes():
    norm = normalise_text("„Ala” ma KOTA, psa i 2 rybki… 'Naprawdę'?", "pl")
    assert norm.text == "ala ma kota psa i 2 rybki naprawdę"
    assert norm.has_digits and not norm.foreign_chars
    assert normalise_text("L’uomo dell'anno", "it").text == "l'uomo dell'anno"
    assert set(normalise_text("Straße und Qualität", "pl").foreign_chars) == {"ß", "ä"}
    assert set(normalise_text("Привет, мир", "pl").foreign_chars) == set("приветм")
    assert normalise_text("Hej då", "sv-SE").foreign_chars == ""
    assert normalise_text("Өлкөнүн тоолору", "ky").foreign_chars == ""
    assert set(normalise_text("Җәйге көннәр", "ky").foreign_chars) == set("әҗ")  # Tatar letters, not Kyrgyz
    assert normalise_text("Җәйге көннәр һәм", "tt").foreign_chars == ""


def test_turkish_casefold_uses_dotted_and_dotless_i():
    assert casefold("IŞIK İstanbul", "tr") == "ışık istanbul"
    assert casefold("IŞIK", "de") == "işik"


def test_split_sentences_keeps_abbreviations_together():
    assert split_sentences("To jest np. kot. Drugi zdanie! Trzecie?") == ["To jest np. kot.", "Drugi zdanie!",
                                                                           "Trzecie?"]


@pytest.mark.parametrize("sentence", [
    "Zobacz stronę https://example.com dla szczegółów.",  # URL
    "Uruchom program z opcją -v aby zobaczyć więcej.",  # command-line option
    "Plik konfiguracyjny to config.txt w katalogu.",  # dotted name
    "Funkcja open() zwraca deskryptor pliku.",  # code
    "Protokół HTTP jest bardzo popularny.",  # acronym (espeak spells it)
    "Mam 3 koty w domu.",  # digits
    "The exit status of the program is zero.",  # untranslated English in a Polish man page
    "ala ma kota i psa.",  # no capital letter
    "Ala ma kota i psa",  # no final punctuation
    "Tak.",  # too short
])
def test_clean_sentence_rejects_what_is_not_speakable_prose(sentence):
    assert clean_sentence(sentence, "pl", 3, 15) is None


def test_clean_sentence_keeps_prose_and_strips_dialogue_dashes():
    assert clean_sentence("– Gdzie jest mój kapelusz? – zapytał.", "pl", 3, 15) == \
        "Gdzie jest mój kapelusz? – zapytał."
    assert clean_sentence("El perro duerme debajo de la mesa.", "es", 3, 15) == "El perro duerme debajo de la mesa."


def test_sentence_pool_drops_duplicates_up_to_normalisation_and_exclusions():
    pool = SentencePool("pl", exclude=["Ala ma kota."])
    pool.add(["Ala ma kota!", "Pies je kość.", "pies je kość", "Kot śpi na macie."])
    assert pool.sentences == ["Pies je kość.", "Kot śpi na macie."]


def test_groff_paragraphs_extract_running_text_not_headings_or_examples():
    page = [
        '.TH LS 1', '.SH OPIS', 'Polecenie \\fBls\\fP wyświetla', 'zawartość katalogu\\(em krótko.',
        '.PP', '.B "Pogrubiony tekst"', 'i dalszy ciąg.', '.nf', 'kod $ ls -l', '.fi', 'Po przykładzie.',
    ]
    assert list(text_sources.groff_paragraphs(page)) == [
        "Polecenie ls wyświetla zawartość katalogu— krótko.", "Pogrubiony tekst i dalszy ciąg.",
        "Po przykładzie."]


def make_mo(pairs: list[tuple[str, str]]) -> bytes:
    """A GNU .mo catalogue (little endian) with the metadata entry first, as msgfmt writes it."""
    entries = [("", "Content-Type: text/plain; charset=UTF-8\n"), *pairs]
    n = len(entries)
    orig_table, trans_table = 28, 28 + 8 * n
    data_start = trans_table + 8 * n
    blob, orig, trans = b"", [], []
    for table, index in ((orig, 0), (trans, 1)):
        for entry in entries:
            raw = entry[index].encode("utf-8")
            table.append((len(raw), data_start + len(blob)))
            blob += raw + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, n, orig_table, trans_table, 0, 0)
    tables = b"".join(struct.pack("<2I", *e) for e in orig + trans)
    return header + tables + blob


def test_read_mo_translations_and_corrupt_catalogue():
    data = make_mo([("File not found", "Nie znaleziono pliku."), ("%d file", "%d plik\0%d pliki")])
    assert text_sources.read_mo_translations(data) == ["Nie znaleziono pliku.", "%d plik"]
    assert text_sources.read_mo_translations(data[:40]) == []
    assert text_sources.read_mo_translations(b"garbage" * 5) == []


def test_fortune_and_plain_paragraphs(tmp_path: Path):
    cookies = tmp_path / "cookies"
    cookies.write_text("Pierwsza myśl dnia.\n  -- Autor\n%\n<nick> czat\nDruga myśl,\nna dwie linie.\n%\n",
                       encoding="utf-8")
    assert list(text_sources.fortune_paragraphs(cookies)) == ["Pierwsza myśl dnia.", "Druga myśl, na dwie linie."]
    plain = tmp_path / "plain.txt"
    plain.write_text("Jeden\nakapit.\n\n\nDrugi akapit.\n", encoding="utf-8")
    assert list(text_sources.plain_paragraphs(plain)) == ["Jeden akapit.", "Drugi akapit."]


def test_unknown_or_missing_source_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ValueError, match="expected one of"):
        text_sources.source_files("books:pl")
    with pytest.raises(FileNotFoundError, match="not a file"):
        text_sources.source_files(f"file:{tmp_path}/nope.txt")


def test_installed_debian_sources_give_polish_sentences():
    """The mini_pl corpus reads fortunes-pl and manpages-pl (requirements/apt.txt installs them)."""
    for spec in ("fortune:pl", "man:pl"):
        files = text_sources.source_files(spec)
        paragraphs = [p for f in files[:5] for p in text_sources.read_paragraphs(spec, f)]
        assert paragraphs, spec
    man_page = text_sources.source_files("man:pl")[0]
    with gzip.open(man_page, "rt", encoding="utf-8") as f:
        assert f.read(1)


def test_normalise_text_cli_writes_transcript_form_and_leaves_out_unusable_lines(tmp_path):
    from phonasr.bin import normalise_text as cli

    text = tmp_path / "other.txt"
    text.write_text("Polecenie wyświetla listę plików.\n\n  ...  \nZażółć gęślą, straße!\nKot śpi, a pies nie.\n",
                    encoding="utf-8")
    cli.main(["--lang", "pl", str(text), str(tmp_path / "out.txt")])
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == ("polecenie wyświetla listę plików\n"
                                                                 "kot śpi a pies nie\n")
    assert cli.normalised_lines(text.read_text(encoding="utf-8").splitlines(), "pl")[1] == 2  # "..." and ß
