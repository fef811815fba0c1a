"""utils/recipe_decode.sh: the recipe's --seed reaches MLS sampling, and options given later still win."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def mls_calls(tmp_path: Path, run_cmd, seed: str) -> list[str]:
    """The steps/mls_rescore.sh command lines of ``rescore_mls`` (a stand-in records them), with ``seed`` set."""
    (tmp_path / "utils").symlink_to(ROOT / "utils")
    (tmp_path / "steps").mkdir()
    fake = tmp_path / "steps/mls_rescore.sh"
    fake.write_text('#!/usr/bin/env bash\necho "$*" >>mls_calls.txt\n')
    fake.chmod(0o755)
    script = tmp_path / "script.sh"
    script.write_text(f"""set -euo pipefail
. utils/log.sh
. utils/recipe_decode.sh
tune_lm() {{ :; }}
seed={seed} mls_samples=10 lm_nbest=64 lm_sets="dev test" lm_dir=data/lm
rescore_mls jsa exp/jsa jsa --g2p-checkpoint exp/g2p
""")
    out = run_cmd(["bash", str(script)], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return (tmp_path / "mls_calls.txt").read_text().splitlines()


def test_the_recipe_seed_reaches_mls(tmp_path, run_cmd):
    calls = mls_calls(tmp_path, run_cmd, "7")
    assert len(calls) == 2 and all(c.startswith("--num-samples 10 --nbest 64 --seed 7 --g2p-checkpoint exp/g2p ")
                                   for c in calls)


def test_no_seed_leaves_mls_its_default(tmp_path, run_cmd):
    assert all("--seed" not in c for c in mls_calls(tmp_path, run_cmd, '""'))
