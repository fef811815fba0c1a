"""CommonVoice preparation: cuts with phones, and every kind of bad input ends up in rejects.tsv."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from lhotse import load_manifest

from phonasr.bin import prepare_commonvoice
from phonasr.data.commonvoice import CommonVoiceLayoutError, PrepareOptions, prepare_language, speaker_overlap
from phonasr.data.rejects import RejectLog
from phonasr.phonemes import load_inventory


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_kaldi(path: Path) -> dict[str, str]:
    """A Kaldi table file as key -> rest of the line."""
    return dict(line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines())


def test_prepare_writes_cuts_with_phones_and_lhotse_manifests(tiny_corpus, tmp_path, repo_root):
    root, _ = tiny_corpus
    out = tmp_path / "manifests" / "pl"
    kaldi = tmp_path / "kaldi" / "pl"
    prepare_commonvoice.main([str(root), "pl", str(out), "--kaldi-dir", str(kaldi)])
    inventory = set(load_inventory("pl"))
    for split in ("train", "dev", "test"):
        rows = read_rows(root / "pl" / f"{split}.tsv")
        cuts = load_manifest(out / f"cuts_{split}.jsonl.gz")
        assert sorted(c.id for c in cuts) == sorted(Path(r["path"]).stem for r in rows)
        by_id = {Path(r["path"]).stem: r for r in rows}
        for cut in cuts:
            sup = cut.supervisions[0]
            assert sup.language == "pl" and sup.speaker == by_id[cut.id]["client_id"]
            assert sup.text == sup.text.lower() and "." not in sup.text and "," not in sup.text
            phones = sup.custom["phones"].split()
            assert phones and set(phones) <= inventory
            assert abs(cut.duration - cut.recording.duration) < 1e-6 and cut.duration > 1.0
        recordings = load_manifest(out / f"cv-pl_recordings_{split}.jsonl.gz")
        supervisions = load_manifest(out / f"cv-pl_supervisions_{split}.jsonl.gz")
        assert len(recordings) == len(supervisions) == len(rows)
        assert {s.text for s in supervisions} == {r["sentence"] for r in rows}  # lhotse keeps the raw sentence
        check_kaldi_dir(kaldi / split, cuts, by_id, repo_root)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train"]["rejected"] == 0
    assert read_rows(out / "rejects.tsv") == []
    assert read_rows(out / "digits.tsv") == [] and summary["train"]["with_digits"] == 0


def check_kaldi_dir(data: Path, cuts, rows: dict[str, dict[str, str]], repo_root: Path) -> None:
    """The exported Kaldi dir holds the kept cuts under <client_id>-<clip> ids, passes utils/validate_data_dir.sh,
    and its wav.scp command decodes each clip."""
    utt = {f"{rows[c.id]['client_id']}-{c.id}": c for c in cuts}
    assert read_kaldi(data / "text") == {u: c.supervisions[0].text for u, c in utt.items()}
    utt2spk = read_kaldi(data / "utt2spk")
    assert utt2spk == {u: rows[c.id]["client_id"] for u, c in utt.items()}
    assert all(u.startswith(spk + "-") for u, spk in utt2spk.items())
    spk2utt = {spk: utts.split() for spk, utts in read_kaldi(data / "spk2utt").items()}
    assert sorted(spk2utt) == sorted(set(utt2spk.values()))
    assert {u: spk for spk, utts in spk2utt.items() for u in utts} == utt2spk
    check = subprocess.run(["bash", "utils/validate_data_dir.sh", str(data)], cwd=repo_root, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stderr
    recording, command = next(iter(read_kaldi(data / "wav.scp").items()))
    assert command.endswith("|")
    decoded = subprocess.run(["bash", "-c", command[:-1]], capture_output=True, check=True).stdout
    samples, rate = sf.read(io.BytesIO(decoded))
    assert abs(len(samples) / rate - {c.id: c for c in cuts}[recording].duration) < 0.05


def corrupt_release(lang_dir: Path) -> dict[str, str]:
    """Damage a copy of the tiny corpus in every way preparation must survive; return reason per utterance."""
    header = (lang_dir / "train.tsv").read_text(encoding="utf-8").splitlines()[0]
    rows = (lang_dir / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    fields = [r.split("\t") for r in rows]
    expected = {}
    (lang_dir / "clips" / fields[0][1]).unlink()
    expected[fields[0][1]] = "missing_clip"
    clip = lang_dir / "clips" / fields[1][1]
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])  # truncated: header still looks fine
    expected[fields[1][1]] = "corrupt_clip"
    fields[2][2] = ""
    expected[fields[2][1]] = "empty_sentence"
    fields[3][2] = "Zażółć gęślą jaźń, straße."  # ß is not Polish
    expected[fields[3][1]] = "foreign_chars"
    phonemes = (lang_dir / "phonemes.tsv").read_text(encoding="utf-8").splitlines()
    lines = [i for i, line in enumerate(phonemes) if line.startswith(fields[4][1] + "\t")]
    phonemes[lines[0]] = f"{fields[4][1]}\tkʘa"  # a click: in no inventory
    (lang_dir / "phonemes.tsv").write_text("\n".join(phonemes) + "\n", encoding="utf-8")
    expected[fields[4][1]] = "phonemes"
    body = ["\t".join(f) for f in fields]
    body.append("\t".join(fields[5][:4]))  # a row with too few fields
    body.append("\t".join(fields[5]))  # the same clip twice
    (lang_dir / "train.tsv").write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    (lang_dir / "clips" / "garbage.mp3").write_bytes(b"not an mp3 at all" * 50)
    dev = (lang_dir / "dev.tsv").read_text(encoding="utf-8").splitlines()
    garbage = dev[1].split("\t")
    garbage[1] = "garbage.mp3"
    (lang_dir / "dev.tsv").write_text("\n".join([*dev, "\t".join(garbage)]) + "\n", encoding="utf-8")
    return expected


def test_every_bad_input_is_rejected_with_file_and_line(corpus_copy, tmp_path):
    root, _ = corpus_copy
    rows_in = {s: len(read_rows(root / "pl" / f"{s}.tsv")) for s in ("train", "dev", "test")}
    expected = corrupt_release(root / "pl")
    rows_in["train"] += 2
    rows_in["dev"] += 1
    out = tmp_path / "manifests"
    prepare_commonvoice.main([str(root), "pl", str(out)])

    rejects = read_rows(out / "rejects.tsv")
    by_reason = {}
    for r in rejects:
        assert r["file"] and int(r["line"]) >= 2, r
        by_reason.setdefault(r["reason"], []).append(r)
    for path, reason in expected.items():
        hits = [r for r in by_reason[reason] if r["utt_id"] == Path(path).stem]
        assert len(hits) == 1, (reason, path, rejects)
        want_file = "phonemes.tsv" if reason == "phonemes" else "train.tsv"
        assert hits[0]["file"].endswith(want_file)
    assert "kʘa" in by_reason["phonemes"][0]["detail"] or "ʘ" in by_reason["phonemes"][0]["detail"]
    train_lines = (root / "pl" / "train.tsv").read_text(encoding="utf-8").splitlines()
    assert [int(r["line"]) for r in by_reason["malformed_row"]] == [len(train_lines) - 1]
    assert [int(r["line"]) for r in by_reason["duplicate"]] == [len(train_lines)]
    assert [r["split"] for r in by_reason["corrupt_clip"]] == ["train", "dev"]

    summary = json.loads((out / "summary.json").read_text())
    for split, counts in summary.items():
        kept = len(load_manifest(out / f"cuts_{split}.jsonl.gz"))
        assert counts["rows"] == rows_in[split] == kept + counts["rejected"]
        assert counts["rejected"] == sum(1 for r in rejects if r["split"] == split)


def test_unknown_tsv_layout_names_missing_columns(corpus_copy, tmp_path):
    root, _ = corpus_copy
    tsv = root / "pl" / "dev.tsv"
    lines = tsv.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("sentence", "text").replace("client_id", "speaker")
    tsv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CommonVoiceLayoutError, match=r"missing column\(s\) \['client_id', 'sentence'\]"):
        prepare_language(root, "pl", PrepareOptions(), RejectLog())
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "phonasr.bin.prepare_commonvoice", str(root), "pl", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "dev.tsv" in result.stderr and "'client_id', 'sentence'" in result.stderr
    assert not (out / "cuts_train.jsonl.gz").exists()  # checked before any work


def set_sentence(tsv: Path, row: int, sentence: str) -> tuple[int, str]:
    """Replace the sentence of data row ``row`` (0-based) of a release TSV; return its line number and clip."""
    lines = tsv.read_text(encoding="utf-8").splitlines()
    fields = lines[row + 1].split("\t")
    fields[2] = sentence
    lines[row + 1] = "\t".join(fields)
    tsv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return row + 2, fields[1]


def test_transcripts_with_digits_are_kept_and_listed_with_file_and_line(corpus_copy, tmp_path):
    root, _ = corpus_copy
    line, clip = set_sentence(root / "pl" / "train.tsv", 2, "Mam 3 koty i 25 rybek.")
    out = tmp_path / "manifests"
    prepare_commonvoice.main([str(root), "pl", str(out)])
    assert read_rows(out / "digits.tsv") == [{"split": "train", "file": str(root / "pl" / "train.tsv"),
                                              "line": str(line), "utt_id": Path(clip).stem,
                                              "text": "mam 3 koty i 25 rybek"}]
    assert Path(clip).stem in {c.id for c in load_manifest(out / "cuts_train.jsonl.gz")}  # kept, as it is
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["train"]["with_digits"], summary["dev"]["with_digits"]) == (1, 0)


def test_length_marks_of_the_ground_truth_are_stripped_unless_asked(corpus_copy, tmp_path):
    root, _ = corpus_copy
    phonemes = root / "pl" / "phonemes.tsv"
    lines = phonemes.read_text(encoding="utf-8").splitlines()
    clip = lines[1].split("\t")[0]
    lines[1] = f"{clip}\tmˈam zˈɛrɔː kˈɔtuf"  # how espeak-ng reads "mam 0 kotów"
    phonemes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "manifests"
    prepare_commonvoice.main([str(root), "pl", str(out)])
    cuts = {c.id: c for split in ("train", "dev", "test") for c in load_manifest(out / f"cuts_{split}.jsonl.gz")}
    assert cuts[Path(clip).stem].supervisions[0].custom["phones"] == "m a m z ɛ r ɔ k ɔ t u f"
    with pytest.raises(ValueError, match="pl.txt was not built with length marks kept"):
        prepare_commonvoice.main([str(root), "pl", str(tmp_path / "keep"), "--strip-length", "false"])


def test_extra_splits_are_prepared_when_asked_and_a_missing_one_is_one_error(tiny_corpus, tmp_path):
    root, _ = tiny_corpus
    out = tmp_path / "pl"
    prepare_commonvoice.main([str(root), "pl", str(out), "--splits", "train", "dev", "test", "test_other"])
    cuts = load_manifest(out / "cuts_test_other.jsonl.gz")
    assert sorted(c.id for c in cuts) == sorted(Path(r["path"]).stem for r in read_rows(root / "pl/test_other.tsv"))
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"train", "dev", "test", "test_other"} and summary["test_other"]["rejected"] == 0
    results = prepare_language(root, "pl", PrepareOptions(check_audio=False), RejectLog(), ("test", "test_other"))
    assert results["test"].speakers & results["test_other"].speakers  # spoken by the test speakers, by design,
    assert speaker_overlap(results) == {}  # which is no overlap to warn about (only train and dev must be apart)
    with pytest.raises(FileNotFoundError, match="test_other.tsv does not exist: prepare only the splits the release"):
        prepare_language(root, "es", PrepareOptions(), RejectLog(), ("train", "test_other"))  # es: no other text
