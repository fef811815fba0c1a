"""make_pairs: S2P hypotheses paired with the true text, rejects for what cannot be paired."""
from __future__ import annotations

import csv

import pytest
from p2g_data import SENTENCES, UTTS, write_cuts, write_s2p_decode

from phonasr.batching.pairs import read_pairs
from phonasr.bin import make_pairs

TEXT = dict(zip(UTTS, (t for t, _ in SENTENCES)))
PHONES = dict(zip(UTTS, (p for _, p in SENTENCES)))


def _rejects(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture
def decode_dir(tmp_path):
    """pl-000..pl-004 decoded (pl-003 to nothing; pl-001 with a three-entry n-best), pl-005 missing."""
    nbest = {u: [(-1.0, PHONES[u]), (-2.5, "a")] for u in UTTS[:5]}
    nbest["pl-001"].append((-3.0, "t o"))
    nbest["pl-003"] = [(-0.5, ""), (-4.0, "d o m")]
    return write_s2p_decode(tmp_path / "decode_test", nbest)


def test_one_best_pairs_and_rejects(p2g_setup, decode_dir, tmp_path):
    out = tmp_path / "pairs" / "spg_test.tsv"
    make_pairs.main([str(decode_dir), str(p2g_setup["cuts"]), str(out)])
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows == [[u, PHONES[u], TEXT[u]] for u in ("pl-000", "pl-001", "pl-002", "pl-004")]
    rejects = _rejects(tmp_path / "pairs" / "spg_test.rejects.tsv")
    assert [(r["utt_id"], r["reason"]) for r in rejects] == [("pl-003", "empty_hypothesis"),
                                                             ("pl-005", "missing_hypothesis")]
    assert rejects[0]["file"] == str(decode_dir / "hyp.txt") and rejects[0]["line"] == "4"
    assert rejects[1]["file"] == str(p2g_setup["cuts"]) and rejects[1]["line"] == "6"
    # the token task reads it both ways: P2G (phones -> text) and G2P (text -> phones)
    assert [p.input for p in read_pairs(out)] == [r[1] for r in rows]
    assert [p.input for p in read_pairs(out, reverse=True)] == [r[2] for r in rows]
    assert (tmp_path / "pairs" / "make_pairs.spg_test.tsv.config.yaml").is_file()


def test_nbest_pairs_every_hypothesis_with_the_true_text(p2g_setup, decode_dir, tmp_path):
    out = tmp_path / "aug.tsv"
    make_pairs.main(["--nbest", "2", "--rejects", str(tmp_path / "rej.tsv"), str(decode_dir),
                     str(p2g_setup["cuts"]), str(out)])
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r[0] for r in rows] == ["pl-000-1", "pl-000-2", "pl-001-1", "pl-001-2", "pl-002-1", "pl-002-2",
                                    "pl-003-2", "pl-004-1", "pl-004-2"]
    assert all(text == TEXT[row_id.rsplit("-", 1)[0]] for row_id, _, text in rows)
    assert rows[7][1] == PHONES["pl-004"] and rows[6][1] == "d o m"
    rejects = _rejects(tmp_path / "rej.tsv")
    assert [(r["utt_id"], r["reason"], r["line"]) for r in rejects] == [("pl-003-1", "empty_hypothesis", "8"),
                                                                        ("pl-005", "missing_hypothesis", "6")]


def test_rerun_gives_the_same_file(p2g_setup, decode_dir, tmp_path):
    out = tmp_path / "pairs.tsv"
    make_pairs.main([str(decode_dir), str(p2g_setup["cuts"]), str(out)])
    first = out.read_bytes()
    make_pairs.main([str(decode_dir), str(p2g_setup["cuts"]), str(out)])
    assert out.read_bytes() == first


def test_errors_name_the_file(p2g_setup, decode_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="nbest.txt does not exist.*--nbest 4"):
        make_pairs.main(["--nbest", "4", str(tmp_path / "nowhere"), str(p2g_setup["cuts"]), str(tmp_path / "x.tsv")])
    with pytest.raises(FileNotFoundError, match="cut manifest .*missing.jsonl.gz does not exist"):
        make_pairs.main([str(decode_dir), str(tmp_path / "missing.jsonl.gz"), str(tmp_path / "x.tsv")])
    few = write_cuts(tmp_path / "few.jsonl.gz", [("pl-000", TEXT["pl-000"])])
    with pytest.raises(ValueError, match=r"hyp.txt holds 4 utterances that .*few.jsonl.gz lacks"):
        make_pairs.main([str(decode_dir), str(few), str(tmp_path / "x.tsv")])
    (decode_dir / "hyp.txt").write_text("pl-000\ta\tb\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"hyp.txt:1: expected utt<TAB>phones"):
        make_pairs.main([str(decode_dir), str(p2g_setup["cuts"]), str(tmp_path / "x.tsv")])
    assert not (tmp_path / "x.tsv").exists()
