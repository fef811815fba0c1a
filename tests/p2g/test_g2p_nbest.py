"""g2p_nbest: phoneme n-bests of a text-only file for language-domain adaptation, rejects with line numbers."""
from __future__ import annotations

import csv
from collections import defaultdict

import pytest

from phonasr.batching.pairs import read_pairs
from phonasr.bin import g2p_nbest
from phonasr.tokenizers import load_tokenizer

LINES = ["Ala ma kota!",        # 1: kept, normalised to "ala ma kota"
         "",                    # 2: blank, skipped
         "!!! ...",             # 3: nothing left after normalisation
         "Façade",              # 4: ç is not a Polish letter
         "żaba",                # 5: Polish, but ż and b are not in the G2P's character table
         "Tata, je   DOM.",     # 6: kept, "tata je dom"
         "kot 2"]               # 7: the digit is not in the character table


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "other_domain.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def _rejects(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_nbest_rows_and_rejects(p2g_setup, text_file, tmp_path):
    out = tmp_path / "lda" / "lda.tsv"
    g2p_nbest.main(["--lang", "pl", "--nbest", "4", "--beam", "8", str(p2g_setup["g2p"]), str(text_file), str(out)])
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    rejects = _rejects(tmp_path / "lda" / "lda.rejects.tsv")
    by_line = [(r["line"], r["utt_id"], r["reason"]) for r in rejects if r["reason"] != "empty_hypothesis"]
    assert by_line == [("3", "lda-3", "empty_sentence"), ("4", "lda-4", "foreign_chars"),
                       ("5", "lda-5", "unknown_chars"), ("7", "lda-7", "unknown_chars")]
    assert "'bż'" in rejects[2]["detail"] and rejects[0]["file"] == str(text_file)
    # every hypothesis of the two usable lines is a row or (for a random G2P, possibly) an empty-hypothesis reject
    ranks = defaultdict(list)
    for row_id in [r[0] for r in rows] + [r["utt_id"] for r in rejects if r["reason"] == "empty_hypothesis"]:
        sentence, rank = row_id.rsplit("-", 1)
        ranks[sentence].append(int(rank))
    assert sorted(ranks) == ["lda-1", "lda-6"] and all(sorted(r) == list(range(1, 5)) for r in ranks.values())
    texts = {"lda-1": "ala ma kota", "lda-6": "tata je dom"}
    phones = load_tokenizer(p2g_setup["dirs"]["phone"])
    for row_id, units, text in rows:
        assert text == texts[row_id.rsplit("-", 1)[0]]
        assert phones.encode(units)  # real units of the G2P's output inventory
    assert len({(r[0].rsplit("-", 1)[0], r[1]) for r in rows}) == len(rows)  # the n-best holds distinct hypotheses
    assert [p.output for p in read_pairs(out)] == [r[2] for r in rows]  # the P2G's token task reads it


def test_jsa_checkpoint_gives_the_g2p_it_holds_and_one_best_has_no_rank(p2g_setup, text_file, tmp_path):
    for name in ("g2p", "jsa"):
        g2p_nbest.main(["--lang", "pl", "--nbest", "1", str(p2g_setup[name]), str(text_file),
                        str(tmp_path / f"{name}.tsv")])
    assert (tmp_path / "jsa.tsv").read_text() == (tmp_path / "g2p.tsv").read_text()
    ids = [line.split("\t")[0] for line in (tmp_path / "g2p.tsv").read_text().splitlines()]
    assert set(ids) <= {"lda-1", "lda-6"}


def test_errors(p2g_setup, text_file, tmp_path):
    with pytest.raises(FileNotFoundError, match="text file .*absent.txt does not exist"):
        g2p_nbest.main(["--lang", "pl", str(p2g_setup["g2p"]), str(tmp_path / "absent.txt"), str(tmp_path / "o.tsv")])
    with pytest.raises(ValueError, match="a G2P reads characters and writes phonemes"):
        g2p_nbest.main(["--lang", "pl", str(p2g_setup["p2g"]), str(text_file), str(tmp_path / "o.tsv")])
    junk = tmp_path / "junk.txt"
    junk.write_text("123\n???\n", encoding="utf-8")
    with pytest.raises(ValueError, match="every line of .*junk.txt was rejected"):
        g2p_nbest.main(["--lang", "pl", str(p2g_setup["g2p"]), str(junk), str(tmp_path / "o.tsv")])
    assert not (tmp_path / "o.tsv").exists()
    assert [r["reason"] for r in _rejects(tmp_path / "o.rejects.tsv")] == ["unknown_chars", "empty_sentence"]
