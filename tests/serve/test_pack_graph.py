"""serve.pack with --graph: the phone-level graph of ``--decoder lm`` packed under graph/ (hashed, its lang dir
pointing inside), its LM weight in decoding.yaml, a graph over other tokens refused, and steps/pack_model.sh
passing both on."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from phonasr.serve.model_dir import GRAPH_FILES, MANIFEST, ModelDirError
from phonasr.tokenizers import PhonemeTokenizer, load_tokenizer, save_tokenizer
from phonasr.wfst.fsts import WordTable
from phonasr.wfst.graph import GRAPH_FILE, INFO_FILE, WORDS_FILE, make_graph_dir
from phonasr.wfst.lexicon import Pronunciation

from .conftest import LM_WEIGHT, PHONES, pack_with_graph
from .test_pack_step import ROOT, run_step


def test_graph_files_are_the_graph_dirs():
    assert GRAPH_FILES == (GRAPH_FILE, WORDS_FILE, INFO_FILE)


def test_the_graph_is_packed_hashed_and_points_inside(lm_model, toy_recipe):
    manifest = yaml.safe_load((lm_model / MANIFEST).read_text())
    assert {"graph/HLG.fst", "graph/words.txt", "graph/graph.yaml"} <= set(manifest["files"])
    assert yaml.safe_load((lm_model / "decoding.yaml").read_text())["lm_weight"] == LM_WEIGHT
    info = yaml.safe_load((lm_model / "graph/graph.yaml").read_text())
    assert info["token_lang_dir"] == "lang/lang_phone" and info["arpa"] == "lm.arpa"
    assert str(toy_recipe).encode() not in (lm_model / "graph/graph.yaml").read_bytes()
    assert "--decoder lm" in (lm_model / "README.md").read_text()


def one_word_graph(root: Path, units, name: str) -> Path:
    """A graph of the single word 'kot' over a phone lang dir of ``units`` saved as data/lang_<name>."""
    save_tokenizer(PhonemeTokenizer.from_units(units), root / f"data/lang_{name}")
    (root / "one.arpa").write_text("\\data\\\nngram 1=4\n\n\\1-grams:\n-1\t<unk>\n-99\t<s>\n-1\t</s>\n"
                                   "-1\tkot\n\n\\end\\\n")
    make_graph_dir(root / f"exp/graph_{name}", [Pronunciation("kot", ("k", "o", "t"))],
                   load_tokenizer(str(root / f"data/lang_{name}")), f"data/lang_{name}", root / "one.arpa",
                   WordTable(["kot"]))
    return root / f"exp/graph_{name}"


def test_a_graph_over_other_tokens_is_refused(toy_recipe, tmp_path):
    small = one_word_graph(toy_recipe, ["k", "o", "t"], "small")
    with pytest.raises(ModelDirError, match="is over 4 tokens .* has 10; pass the graph built"):
        pack_with_graph(toy_recipe, tmp_path / "m1", small, lm_weight=1.0)
    other = one_word_graph(toy_recipe, [p if p != "s" else "z" for p in PHONES], "other")  # as many, one differs
    with pytest.raises(ModelDirError, match="differ from the S2P's"):
        pack_with_graph(toy_recipe, tmp_path / "m2", other, lm_weight=1.0)
    assert not (tmp_path / "m1").exists() and not (tmp_path / "m2").exists()


def test_pack_step_passes_the_graph_and_its_weight(lm_model, toy_recipe):
    for name in ("steps", "utils"):
        if not (toy_recipe / name).exists():
            (toy_recipe / name).symlink_to(ROOT / name)
    run = run_step(toy_recipe, "--language", "pl", "--graph", "exp/graph_phone_g2p", "--lm-weight-file",
                   "exp/jsa_phone_g2p_lm/lmwt/weight.txt", "toy", "exp/jsa/final.pt:s2p", "exp/jsa/final.pt:p2g",
                   "exp/step_lm/model")
    assert run.returncode == 0, run.stderr
    model = toy_recipe / "exp/step_lm/model"
    assert yaml.safe_load((model / "decoding.yaml").read_text())["lm_weight"] == LM_WEIGHT
    assert (model / "graph/HLG.fst").read_bytes() == (lm_model / "graph/HLG.fst").read_bytes()
