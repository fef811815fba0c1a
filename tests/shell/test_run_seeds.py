"""utils/run_seeds.sh with a stand-in run.sh: the shared stages once, each seed's run on a mirror of the shared
root (large files linked, small ones copied, nothing written back), a finished seed skipped, the aggregate."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Stages 0-4 write the shared data and a large "model"; stage 5 checks what a seed sees and scores WER = its seed.
FAKE_RUN = r"""#!/usr/bin/env bash
set -euo pipefail
stage=0 stop_stage=100 seed="" dir="" nj=1
. utils/parse_options.sh
echo "stages $stage-$stop_stage seed ${seed:-none} nj $nj" >>"$CALLS"
mkdir -p "$dir" && cd "$dir"
if [ "$stage" -eq 0 ]; then
  mkdir -p data/fbank exp/s2p corpus
  echo feats >data/fbank/feats.txt
  head -c 2000000 /dev/zero >exp/s2p/final.pt
  printf 'system\ttest_set\tmetric\tvalue\terrors/total\tdetails\n' >exp/results.tsv
  printf 's2p_ft_text\ttest\tWER\t30.00\t1/1\tx\n' >>exp/results.tsv
  printf '0\t1\tnow\n' >>exp/stage_times.tsv
else
  for link in exp/s2p/final.pt corpus; do [ -L $link ] || exit 3; done
  for copy in exp/results.tsv data/fbank/feats.txt; do [ -f $copy ] && [ ! -L $copy ] || exit 4; done
  [ ! -e exp/stage_times.tsv ] || exit 5
  mkdir -p data/pairs && echo "$seed" >data/pairs/spg_train.tsv
  printf 'jsa_aug_mls\ttest\tWER\t%s.00\t1/1\tx\n' "$seed" >>exp/results.tsv
  printf '%s\t1\tnow\n' "$stage" >>exp/stage_times.tsv
fi
"""


def make_recipe(tmp_path: Path) -> Path:
    recipe = tmp_path / "recipe"
    (recipe / "conf").mkdir(parents=True)
    (recipe / "conf/recipe.conf").write_text("target_lang=pl\n")
    (recipe / "run.sh").write_text(FAKE_RUN)
    (recipe / "path.sh").write_text(f"export PATH={ROOT}/.venv/bin:$PATH PYTHONPATH={ROOT}\n")
    (recipe / "utils").symlink_to(ROOT / "utils")
    return recipe


def run_seeds(recipe: Path, *args: str) -> subprocess.CompletedProcess:
    """utils/run_seeds.sh ARGS in ``recipe``; the stand-in run.sh appends its options to ../calls.txt."""
    env = dict(os.environ, LC_ALL="C", CALLS=str(recipe.parent / "calls.txt"))
    return subprocess.run(["bash", "utils/run_seeds.sh", *args], cwd=recipe, env=env, capture_output=True,
                          text=True, timeout=120)


def test_shared_stages_once_then_each_seed_on_a_mirror(tmp_path):
    recipe = make_recipe(tmp_path)
    calls = tmp_path / "calls.txt"
    args = ["--seeds", "3 1", "--stage", "5", "--stop-stage", "9", "--nj", "4", "--dir", "out"]
    out = run_seeds(recipe, *args)
    assert out.returncode == 0, out.stderr
    assert calls.read_text().splitlines() == ["stages 0-4 seed none nj 4", "stages 5-9 seed 3 nj 4",
                                              "stages 5-9 seed 1 nj 4"]
    root = recipe / "out"
    assert not (root / "data/pairs").exists()  # a seed's writes stay in its own tree
    assert (root / "seeds/1/data/pairs/spg_train.tsv").read_text() == "1\n"
    assert (root / "seeds/3/exp/stage_times.tsv").read_text().startswith("5\t")
    rows = {tuple(line.split("\t")[:3]): line.split("\t")[3:] for line in
            (root / "seeds/results_seeds.tsv").read_text().splitlines()}
    assert rows[("jsa_aug_mls", "test", "WER")] == ["2.00", "1.41", "2", "1.00", "3.00", "false", "1.00", "3.00"]
    assert rows[("s2p_ft_text", "test", "WER")][5] == "true"
    assert "| JSA-SPG + aug | – | – | – | 2.00 ± 1.41 (2) |" in (root / "seeds/RESULTS_seeds.md").read_text()
    again = run_seeds(recipe, *args)  # finished seeds are skipped; the shared run skips itself
    assert again.returncode == 0, again.stderr
    assert calls.read_text().splitlines()[3:] == ["stages 0-4 seed none nj 4"]
    assert "seed 3: stages 5..9 already done" in again.stderr


def test_a_root_where_seeded_stages_ran_is_refused(tmp_path):
    recipe = make_recipe(tmp_path)
    (recipe / "exp").mkdir()
    (recipe / "exp/stage_times.tsv").write_text("4\t1\tnow\n10\t5\tnow\n")
    out = run_seeds(recipe, "--stage", "9")
    assert out.returncode != 0 and "holds the outputs of stage 10 (>= --stage 9" in out.stderr


def test_mistakes_are_one_error(tmp_path):
    recipe = make_recipe(tmp_path)
    for args, message in ((["--seed", "3"], "--seed is set per seed here"),
                          (["--seeds", "1 x"], "--seeds takes whole numbers, got 'x'"),
                          (["--stage", "0"], "--stage must be 1..--stop-stage"),
                          (["stray"], "unexpected argument 'stray'")):
        out = run_seeds(recipe, *args)
        assert out.returncode != 0 and message in out.stderr, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
