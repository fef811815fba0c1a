"""phonasr.bin.select_subset and steps/select_subset.sh on a manifest file: outputs, coverage table, idempotence."""
from __future__ import annotations

import os
import subprocess
import sys

from lhotse import CutSet

from phonasr.bin import select_subset
from tests.subset.synthetic_cuts import make_cut, polish_cuts


def write_manifest(path, cuts):
    path.parent.mkdir(parents=True, exist_ok=True)
    CutSet.from_cuts(cuts).to_file(path)
    return path


def test_worker_writes_subset_coverage_and_ids(tmp_path, capsys):
    cuts = polish_cuts(40)[:39] + [make_cut(99, "ala ma kota", "pl")]  # last one has no phones: espeak reads it
    manifest = write_manifest(tmp_path / "cuts_train.jsonl.gz", cuts)
    out = tmp_path / "subset"
    select_subset.main(["--count", "8", "--name", "small", str(manifest), str(out)])
    chosen = CutSet.from_file(out / "cuts_train_small.jsonl.gz")
    ids = (out / "uttids_small.txt").read_text().split()
    assert ids == [c.id for c in chosen] and len(ids) == 8
    assert all(c.supervisions[0].custom["phones"] for c in chosen)
    coverage = (out / "coverage_small.txt").read_text(encoding="utf-8")
    assert coverage.startswith("# 8 cuts") and coverage == capsys.readouterr().out
    header, *rows = coverage.splitlines()[1:]
    assert header.split() == ["phoneme", "subset", "full", "priority"]
    assert rows[0].split()[-1] == "yes" and "dz" in rows[-1]  # the paper's dz has no espeak-ng unit
    assert (out / "rejects_small.tsv").read_text() == "" and (out / "missing_words_small.txt").read_text() == ""
    assert (out / "select_subset_small.config.yaml").is_file()


def test_lexicon_source_reports_missing_words(tmp_path):
    manifest = write_manifest(tmp_path / "cuts.jsonl.gz", [make_cut(0, "dom kot", "pl"), make_cut(1, "ala", "pl")])
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("dom\td ɔ m\nkot\tk ɔ t\n", encoding="utf-8")
    out = tmp_path / "subset"
    select_subset.main(["--g2p", "lexicon", "--lexicon", str(lexicon), str(manifest), str(out)])
    assert (out / "missing_words.txt").read_text() == "ala\t1\n"
    assert (out / "rejects.tsv").read_text() == "utt001\tno pronunciation for: ala\n"
    assert (out / "uttids.txt").read_text() == "utt000\n"


def test_shell_step_runs_once(repo_root, tmp_path):
    manifest = write_manifest(tmp_path / "cuts_train.jsonl.gz", polish_cuts(20))
    out = tmp_path / "subset"
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
           "PYTHONPATH": str(repo_root)}
    cmd = ["bash", "steps/select_subset.sh", "--minutes", "0.2", str(manifest), str(out)]
    first = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert (out / "cuts_train.jsonl.gz").is_file() and (out / ".select_subset.done").is_file()
    assert "phoneme" in first.stdout
    second = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True)
    assert second.returncode == 0 and "skipping" in second.stderr
    bad = subprocess.run(["bash", "steps/select_subset.sh", str(tmp_path / "nope.jsonl.gz"), str(out)],
                         cwd=repo_root, env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "do not exist" in bad.stderr
