"""The synthetic corpus: CommonVoice layout, determinism, resuming, disjoint speakers."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
import soundfile as sf
import yaml

from phonasr.bin import synth_corpus
from phonasr.data.synth.config import parse_config
from phonasr.data.synth.layout import LanguageLayout
from phonasr.text.normalise import normalise_text
from tests.data.synth_helpers import build_corpus, tiny_config, write_config

CV_HEADER = ["client_id", "path", "sentence", "up_votes", "down_votes", "age", "gender", "accents", "variant",
             "locale", "segment"]


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def file_hashes(root: Path) -> dict[str, str]:
    """Every file under root (work folder included) -> sha256, except run records that hold times/hosts."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "versions.json" not in p.name}


def test_release_layout_and_columns(tiny_corpus):
    root, _ = tiny_corpus
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["es", "pl"]
    for lang in ("pl", "es"):
        lang_dir = root / lang
        with open(lang_dir / "train.tsv", encoding="utf-8") as f:
            assert f.readline().rstrip("\n").split("\t") == CV_HEADER
        names = ("train", "dev", "test", "test_other") if lang == "pl" else ("train", "dev", "test")
        splits = {s: read_tsv(lang_dir / f"{s}.tsv") for s in names}
        assert all(splits.values()), f"{lang}: every split has clips"
        validated = read_tsv(lang_dir / "validated.tsv")
        assert sorted(r["path"] for r in validated) == sorted(r["path"] for rows in splits.values() for r in rows)
        phonemes = read_tsv(lang_dir / "phonemes.tsv")
        assert {r["path"] for r in phonemes} == {r["path"] for r in validated}
        assert all(r["ipa"].strip() for r in phonemes)
        for row in validated:
            assert row["locale"] == lang and len(row["client_id"]) == 128 and row["sentence"]
            assert row["gender"] in ("male", "female")
            info = sf.info(lang_dir / "clips" / row["path"])
            assert (info.samplerate, info.channels, info.format) == (48000, 1, "MP3")
            assert 1.0 < info.duration < 10.0
    other = (root / "pl" / "text_other_domain.txt").read_text(encoding="utf-8").splitlines()
    assert other and not set(other) & {r["sentence"] for r in read_tsv(root / "pl" / "validated.tsv")}
    assert not (root / "es" / "text_other_domain.txt").exists()


def test_other_domain_test_split_is_held_out_text_spoken_by_test_speakers(tiny_corpus):
    root, _ = tiny_corpus
    pl = root / "pl"
    spoken = read_tsv(pl / "test_other.tsv")
    assert len(spoken) == 2  # other_domain_test_sentences
    adaptation = (pl / "text_other_domain.txt").read_text(encoding="utf-8").splitlines()
    assert len(adaptation) == 5  # other_domain_sentences: the test sentences come on top
    in_domain = {s: read_tsv(pl / f"{s}.tsv") for s in ("train", "dev", "test")}
    keys = {s: {normalise_text(r["sentence"], "pl").text for r in rows} for s, rows in in_domain.items()}
    keys["adaptation"] = {normalise_text(s, "pl").text for s in adaptation}
    other = {normalise_text(r["sentence"], "pl").text for r in spoken}
    assert all(not other & k for k in keys.values()), "an other-domain test sentence is in another split or the text"
    assert {r["client_id"] for r in spoken} <= {r["client_id"] for r in in_domain["test"]}
    assert not (root / "es" / "test_other.tsv").exists()  # no other-domain text, no such split


def test_other_domain_split_needs_a_nonnegative_count(tmp_path):
    cfg = tiny_config(tmp_path)
    cfg["other_domain_test_sentences"] = -1
    with pytest.raises(ValueError, match="other_domain_test_sentences"):
        parse_config(cfg)


def test_speakers_disjoint_across_splits(tiny_corpus):
    root, _ = tiny_corpus
    for lang in ("pl", "es"):
        speakers = {s: {r["client_id"] for r in read_tsv(root / lang / f"{s}.tsv")} for s in ("train", "dev", "test")}
        assert not speakers["train"] & speakers["dev"]
        assert not speakers["train"] & speakers["test"]
        assert not speakers["dev"] & speakers["test"]


def test_same_seed_same_corpus_other_seed_differs(tiny_corpus, tmp_path):
    root, config = tiny_corpus
    build_corpus(config, tmp_path / "again", num_jobs=1)  # also: the number of jobs does not matter
    first, again = file_hashes(root), file_hashes(tmp_path / "again")
    # done.<job>.tsv records differ by job count; the release itself must be byte-identical, audio included
    released = {k: v for k, v in first.items() if "/.synth/done." not in k}
    assert released == {k: v for k, v in again.items() if "/.synth/done." not in k}

    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    cfg["seed"] = 8
    other_seed = write_config(tmp_path / "seed8.yaml", cfg)
    synth_corpus.main(["plan", "--config", str(other_seed), str(tmp_path / "seed8")])
    plan7 = LanguageLayout(root, "pl").plan.read_text(encoding="utf-8")
    assert LanguageLayout(tmp_path / "seed8", "pl").plan.read_text(encoding="utf-8") != plan7


def test_rerun_is_noop_and_resume_renders_only_missing(corpus_copy):
    root, config = corpus_copy
    before = {p: p.stat().st_mtime_ns for p in (root / "pl" / "clips").iterdir()}
    build_corpus(config, root)
    assert {p: p.stat().st_mtime_ns for p in (root / "pl" / "clips").iterdir()} == before

    layout = LanguageLayout(root, "pl")
    victim = sorted(before)[0]
    reference = victim.read_bytes()
    victim.unlink()
    # a job killed mid-append leaves a line without newline: that clip must be redone, not trusted
    records = layout.done_records(1)
    records.write_text(records.read_text(encoding="utf-8") + "common_voice_pl_99\t1.0\tpartial",
                       encoding="utf-8")
    with pytest.raises(SystemExit, match="not rendered"):
        synth_corpus.main(["finalize", "--config", str(config), str(root)])
    build_corpus(config, root)
    after = {p: p.stat().st_mtime_ns for p in (root / "pl" / "clips").iterdir()}
    assert [p for p in after if after[p] != before.get(p)] == [victim]
    assert victim.read_bytes() == reference


def test_changed_config_is_refused(corpus_copy, tmp_path):
    root, config = corpus_copy
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    cfg["languages"]["pl"]["minutes"] = 0.6
    changed = write_config(tmp_path / "changed.yaml", cfg)
    with pytest.raises(SystemExit, match="another config"):
        synth_corpus.main(["plan", "--config", str(changed), str(root)])


def test_config_errors_are_clear(tmp_path):
    cfg = tiny_config(tmp_path)
    cfg["languages"]["pl"]["minuts"] = 3
    with pytest.raises(ValueError, match="unknown key.*minuts"):
        parse_config(cfg)


def test_default_voice_of_a_language_is_its_base_language_voice(tmp_path):
    cfg = tiny_config(tmp_path)
    cfg["languages"] = {code: {"text": [f"file:{tmp_path}/es.txt"]} for code in ("sv-SE", "en", "es")}
    assert [lang.voice for lang in parse_config(cfg).languages] == ["sv", "en-us", "es"]
