"""serve.model_dir / serve.pack: a packed system stands alone: relative paths only, a sha256 per file, and a
missing or altered file fails naming it."""
from __future__ import annotations

import shutil

import pytest
import torch
import yaml

from phonasr.serve.model_dir import MANIFEST, ModelDirError, load_model_dir
from phonasr.serve.networks import load_network
from phonasr.serve.pack import Source, pack_system, parse_source
from phonasr.tokenizers import PhonemeTokenizer

from .conftest import PHONES, pack_toy


def test_pack_lists_every_file_with_its_sha256_and_loads_with_weights_only(toy_model):
    manifest = yaml.safe_load((toy_model / MANIFEST).read_text())
    files = sorted(p.relative_to(toy_model).as_posix() for p in toy_model.rglob("*") if p.is_file())
    assert sorted(manifest["files"]) == [f for f in files if f != MANIFEST]
    assert {"s2p.pt", "p2g.pt", "g2p.pt", "features.yaml", "decoding.yaml", "README.md",
            "lang/lang_phone/tokens.txt", "lang/lang_char/tokenizer.yaml"} <= set(manifest["files"])
    assert manifest["components"]["p2g"] == {"weights": "p2g.pt", "name": "p2g", "outputs": "lang/lang_char",
                                             "inputs": "lang/lang_phone"}
    for name in ("s2p.pt", "p2g.pt", "g2p.pt"):
        payload = torch.load(toy_model / name, weights_only=True)
        assert "data" not in payload["config"], "the training config (machine paths) must stay behind"
    card = (toy_model / "README.md").read_text()
    assert "| toy | test | WER | 99.00 | 99/100 |" in card and "phonasr transcribe" in card


def test_no_absolute_or_recipe_paths_and_a_copy_elsewhere_loads(toy_recipe, toy_model, tmp_path):
    for path in toy_model.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert str(toy_recipe).encode() not in data, f"{path.name} names the recipe directory"
            assert b"data/lang_" not in data, f"{path.name} names a recipe-relative lang dir"
    copy = tmp_path / "elsewhere" / "my model"
    shutil.copytree(toy_model, copy)
    model_dir = load_model_dir(copy)
    network = load_network(model_dir, "p2g")
    assert network.inputs.symbols == PhonemeTokenizer.from_units(PHONES).symbols
    assert network.upsample == 2


@pytest.mark.parametrize("victim", ["s2p.pt", "lang/lang_phone/tokens.txt", "decoding.yaml"])
def test_a_missing_or_altered_file_fails_naming_it(toy_model, tmp_path, victim):
    missing, altered = tmp_path / "missing", tmp_path / "altered"
    shutil.copytree(toy_model, missing)
    shutil.copytree(toy_model, altered)
    (missing / victim).unlink()
    with pytest.raises(ModelDirError, match=f"file '{victim}' is missing"):
        load_model_dir(missing)
    with open(altered / victim, "ab") as f:
        f.write(b"\n")
    with pytest.raises(ModelDirError, match=f"file '{victim}' was altered"):
        load_model_dir(altered)


def test_not_a_model_dir_and_a_bad_manifest(toy_model, tmp_path):
    with pytest.raises(ModelDirError, match="does not exist"):
        load_model_dir(tmp_path / "nothing")
    with pytest.raises(ModelDirError, match="has no model.yaml: it is not a packed model directory"):
        load_model_dir(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(toy_model, copy)
    manifest = yaml.safe_load((copy / MANIFEST).read_text())
    manifest["files"]["../outside.txt"] = "0" * 64
    (copy / MANIFEST).write_text(yaml.safe_dump(manifest))
    with pytest.raises(ModelDirError, match="'../outside.txt' is not inside the model directory"):
        load_model_dir(copy)


def test_pack_refuses_a_token_model_as_s2p_and_replaces_an_old_dir(toy_recipe, tmp_path):
    ckpt = str(toy_recipe / "exp/jsa/final.pt")
    with pytest.raises(ModelDirError, match="cannot be the s2p: it must read speech features"):
        pack_system(tmp_path / "m", system="x", language="pl", s2p=Source(ckpt, "p2g"), p2g=Source(ckpt, "p2g"),
                    root=toy_recipe)
    assert not (tmp_path / "m").exists() and not list(tmp_path.glob(".m*"))
    (tmp_path / "m").mkdir()
    (tmp_path / "m/stale.txt").write_text("old")
    pack_toy(toy_recipe, tmp_path / "m")
    assert not (tmp_path / "m/stale.txt").exists()
    assert parse_source("exp/jsa/final.pt:s2p") == ("exp/jsa/final.pt", "s2p")
    assert parse_source("exp/p2g_aug/final.pt") == ("exp/p2g_aug/final.pt", None)


def test_the_pack_worker_and_the_phonasr_command_fail_in_one_line(toy_recipe, tmp_path, capsys):
    from phonasr.bin.pack_model import main as pack_main
    from phonasr.command import main as command_main

    with pytest.raises(SystemExit) as done:
        pack_main(["--system", "x", "--language", "pl", "--s2p", str(tmp_path / "none.pt"), "--p2g",
                   str(toy_recipe / "exp/jsa/final.pt:p2g"), str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert done.value.code == 1 and err.startswith("error: checkpoint ") and err.count("\n") == 1
    with pytest.raises(SystemExit) as done:
        command_main(["translate"])
    assert done.value.code == 2 and "unknown subcommand 'translate'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        command_main(["--help"])
    assert done.value.code == 0 and "transcribe" in capsys.readouterr().out
