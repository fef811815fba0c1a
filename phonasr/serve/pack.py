"""Packing a trained system (S2P + P2G [+ G2P]) out of a recipe's ``exp/`` into a model directory.

The checkpoints of a recipe name their lang dirs relative to the recipe's output root and carry the training
config (manifest paths, the machine's directories). The packed copy keeps only what decoding needs: each
network's weights and ``model_specs`` entry, its lang dirs copied under ``lang/`` and referred to relatively,
the fbank settings, the decoding settings and a model card; ``model.yaml`` lists every file with its sha256
(:mod:`phonasr.serve.model_dir`).

A decoding graph (the recipe's lexicon-free ``exp/graph_phone_g2p``) can go along for ``--decoder lm``: its
HLG.fst, words.txt and graph.yaml are copied under ``graph/`` (hashed like every file), graph.yaml's token lang
dir rewritten to the packed S2P's, and the LM weight chosen on dev written to decoding.yaml. A graph over other
tokens than the S2P's is refused: it would decode without error into wrong words.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import shutil
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from phonasr.features.config import FbankConfig
from phonasr.models.stored import load_stored_model
from phonasr.serve.model_dir import (
    GRAPH_DIR,
    GRAPH_FILES,
    MANIFEST,
    Component,
    Manifest,
    ModelDirError,
    relative_files,
    versions,
    write_manifest,
)
from phonasr.tokenizers.lang_dir import CONFIG_FILE
from phonasr.utils.io import atomic_torch_save, atomic_write_text

logger = logging.getLogger(__name__)

#: ``phonasr transcribe``'s defaults, recorded in decoding.yaml (the recipe decodes with these beams)
DEFAULT_DECODING: Dict[str, Any] = {
    "decoder": "beam", "s2p_beam": 16, "p2g_beam": 16,
    # long audio: the S2P reads chunks of chunk_seconds with context_seconds on each side; the P2G reads
    # segments of at most segment_seconds cut at the longest pauses (runs of blank) the S2P found
    "chunk_seconds": 30.0, "context_seconds": 2.0, "segment_seconds": 20.0,
}


@dataclasses.dataclass
class Source:
    """A network to pack: a checkpoint file and the model's name in it (None: the only one / the preferred)."""

    checkpoint: str
    name: Optional[str] = None


def pack_system(out_dir: str | Path, *, system: str, language: str, s2p: Source, p2g: Source,
                g2p: Optional[Source] = None, root: str | Path = ".", fbank_config: Optional[str] = None,
                results: Optional[str] = None, results_systems: Sequence[str] = (),
                decoding: Optional[Mapping[str, Any]] = None, description: str = "",
                graph: Optional[str] = None, lm_weight: Optional[float] = None,
                lm_weight_file: Optional[str] = None) -> Path:
    """Write the model directory of ``system`` into ``out_dir`` (replaced as a whole, atomically renamed into
    place). ``root`` is the recipe output root the checkpoints' recorded lang dirs are relative to;
    ``fbank_config`` a ``fbank_*.config.yaml`` of the training features (default: phonasr's fbank settings);
    the rows of ``results`` (results.tsv) for ``results_systems`` go into the model card. ``graph``: a graph dir
    over the S2P's phonemes to pack for ``--decoder lm``, with ``lm_weight`` (or the one of ``lm_weight_file``,
    the recipe's lmwt/weight.txt)."""
    out_dir = Path(out_dir)
    weight = _lm_weight(graph, lm_weight, lm_weight_file)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        components: Dict[str, Component] = {}
        lang_dirs: Dict[str, str] = {}  # source lang dir -> relative copy
        for kind, source, prefer in (("s2p", s2p, "s2p"), ("p2g", p2g, "p2g"), ("g2p", g2p, "g2p")):
            if source is not None:
                components[kind] = _pack_network(tmp, kind, source, prefer, Path(root), lang_dirs)
        if graph is not None:
            _copy_graph(Path(graph), tmp, Path(root), s2p, components["s2p"])
        features = _fbank_settings(fbank_config)
        atomic_write_text(tmp / "features.yaml", yaml.safe_dump(features, sort_keys=False))
        settings = {**DEFAULT_DECODING, **dict(decoding or {}), **({"lm_weight": weight} if graph else {})}
        atomic_write_text(tmp / "decoding.yaml", yaml.safe_dump(settings, sort_keys=False))
        rows = _result_rows(results, results_systems)
        atomic_write_text(tmp / "README.md", model_card(system, language, components, rows, description,
                                                          graph is not None))
        manifest = Manifest(system=system, language=language, components=components, files={},
                            versions=versions(), created=datetime.datetime.now(datetime.timezone.utc)
                            .strftime("%Y-%m-%dT%H:%M:%SZ"))
        write_manifest(tmp, manifest, relative_files(tmp))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("packed %s (%s) into %s: %s", system, language, out_dir, ", ".join(
        f"{k} = model '{c.name}' of {src.checkpoint}" for (k, c), src in zip(components.items(),
                                                                              [s for s in (s2p, p2g, g2p) if s])))
    return out_dir


def _pack_network(out: Path, kind: str, source: Source, prefer: str, root: Path,
                  lang_dirs: Dict[str, str]) -> Component:
    stored = load_stored_model(source.checkpoint, source.name, prefer=prefer)
    if (kind == "s2p") != (stored.vocab_size("input") is None):
        what = "read speech features" if kind == "s2p" else "read tokens"
        raise ModelDirError(f"model '{stored.name}' of {source.checkpoint} cannot be the {kind}: it must {what}; "
                            "name the right model (CHECKPOINT:MODEL)")
    sides = ["output"] + (["input"] if stored.vocab_size("input") is not None else [])
    rel: Dict[str, str] = {}
    for side in sides:
        recorded = stored.lang_dir(side)
        src = Path(recorded) if Path(recorded).is_absolute() else root / recorded
        stored.tokenizer(side, str(src))  # the lang dir still matches the weights (size and symbols)
        rel[side] = lang_dirs.get(str(src)) or _copy_lang_dir(src, out, lang_dirs)
    spec = dataclasses.replace(stored.spec, output_dir=rel["output"], input_dir=rel.get("input"))
    payload = {"kind": "model", "component": kind, "models": {stored.name: stored.state},
               "model_specs": {stored.name: dataclasses.asdict(spec)}, "config": {"model": dict(spec.config)}}
    atomic_torch_save(payload, out / f"{kind}.pt")
    return Component(weights=f"{kind}.pt", name=stored.name, outputs=rel["output"], inputs=rel.get("input"))


def _copy_lang_dir(src: Path, out: Path, lang_dirs: Dict[str, str]) -> str:
    """Copy the tokenizer files of lang dir ``src`` (tokens.txt, tokenizer.yaml and the files it names) to
    ``lang/<name>``; the recipe's bookkeeping (make_lang.*) stays behind."""
    rel = f"lang/{src.name}"
    dst = out / rel
    if dst.exists():  # two lang dirs of one name in different places
        rel = f"lang/{src.name}_{len(lang_dirs)}"
        dst = out / rel
    dst.mkdir(parents=True)
    config = yaml.safe_load((src / CONFIG_FILE).read_text(encoding="utf-8")) or {}
    named = [v for v in config.values() if isinstance(v, str) and (src / v).is_file()]
    for name in [CONFIG_FILE, "tokens.txt", *named]:
        if (src / name).is_file():
            shutil.copyfile(src / name, dst / name)
    lang_dirs[str(src)] = rel
    return rel


def _lm_weight(graph: Optional[str], weight: Optional[float], weight_file: Optional[str]) -> float:
    if graph is None:
        if weight is not None or weight_file:
            raise ModelDirError("an LM weight without --graph: pass the graph dir it was chosen for (--graph DIR)")
        return 1.0
    if weight is not None and weight_file:
        raise ModelDirError("pass --lm-weight or --lm-weight-file, not both")
    if weight_file:
        try:
            weight = float(Path(weight_file).read_text(encoding="utf-8").split()[0])
        except (OSError, ValueError, IndexError):
            raise ModelDirError(f"cannot read an LM weight from {weight_file}; pass the lmwt/weight.txt that "
                                "steps/tune_lm_weight.sh wrote, or --lm-weight X") from None
    if weight is None:
        logger.warning("packing %s without an LM weight: --decoder lm will use 1.0; pass the one chosen on dev "
                       "(--lm-weight-file exp/<system>/lmwt/weight.txt)", graph)
        return 1.0
    if not weight > 0:
        raise ModelDirError(f"LM weight {weight} must be positive; pass the one chosen on dev")
    return float(weight)


def _copy_graph(src: Path, out: Path, root: Path, s2p: Source, component: Component) -> None:
    """Copy graph dir ``src`` to ``out/graph`` after checking it is over the S2P's tokens."""
    for name in GRAPH_FILES:
        if not (src / name).is_file():
            raise ModelDirError(f"graph dir {src} has no {name}; build it with steps/make_graph.sh (recipe stage 14)")
    info_file = GRAPH_FILES[2]
    info = yaml.safe_load((src / info_file).read_text(encoding="utf-8")) or {}
    packed_lang = out / component.outputs
    vocab = len((packed_lang / "tokens.txt").read_text(encoding="utf-8").splitlines())
    if info.get("vocab_size") != vocab:
        raise ModelDirError(f"graph {src} is over {info.get('vocab_size')} tokens of {info.get('token_lang_dir')}, "
                            f"but the S2P ({s2p.checkpoint}) has {vocab}; pass the graph built for the S2P's lang dir")
    recorded = Path(str(info.get("token_lang_dir", "")))
    graph_lang = recorded if recorded.is_absolute() else root / recorded
    if (graph_lang / "tokens.txt").is_file():
        if (graph_lang / "tokens.txt").read_text(encoding="utf-8") != (packed_lang / "tokens.txt").read_text(
                encoding="utf-8"):
            raise ModelDirError(f"graph {src} is over the tokens of {graph_lang}, which differ from the S2P's "
                                f"({s2p.checkpoint}); pass the graph built for the S2P's lang dir")
    else:
        logger.warning("graph %s: its token lang dir %s is not at hand; checked the token count only", src, graph_lang)
    dst = out / GRAPH_DIR
    dst.mkdir()
    for name in GRAPH_FILES:
        shutil.copyfile(src / name, dst / name)
    info["token_lang_dir"] = component.outputs  # the packed copy, relative to the model directory
    info["arpa"] = Path(str(info.get("arpa", ""))).name  # a note of which LM; no recipe path in a model dir
    atomic_write_text(dst / info_file, yaml.safe_dump(info, sort_keys=False, allow_unicode=True))


def _fbank_settings(path: Optional[str]) -> Dict[str, Any]:
    if not path:
        return FbankConfig().to_dict()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    section = data.get("fbank", data) if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise ModelDirError(f"{path} holds no fbank settings (an 'fbank:' mapping); pass a fbank_*.config.yaml")
    return FbankConfig(**section).to_dict()  # unknown keys fail here, not when decoding


def _result_rows(results: Optional[str], systems: Sequence[str]) -> List[List[str]]:
    if not results or not Path(results).is_file():
        return []
    lines = Path(results).read_text(encoding="utf-8").splitlines()[1:]
    return [row[:5] for row in (line.split("\t") for line in lines) if row and row[0] in systems]


def model_card(system: str, language: str, components: Mapping[str, Component], rows: Sequence[Sequence[str]],
               description: str = "", has_graph: bool = False) -> str:
    """A short README.md: what the system is, what it was trained on, its test figures, how to run it."""
    parts = [f"# phonasr model: {system} ({language})", ""]
    if description:
        parts += [description, ""]
    parts += ["Phoneme-based ASR with JSA-SPG: an S2P (speech -> phonemes, CTC Conformer) and a P2G (phonemes -> "
              "subwords, CTC Transformer)" + (", with its G2P (letters -> phonemes)" if "g2p" in components else "")
              + ".", "", "| network | model | reads | writes |", "|---|---|---|---|"]
    for kind, c in components.items():
        parts.append(f"| {kind} | {c.name} ({c.weights}) | {c.inputs or 'fbank (features.yaml)'} | {c.outputs} |")
    if rows:
        parts += ["", "Figures of the recipe that trained it (exp/results.tsv):", "",
                  "| system | test set | metric | value | errors/total |", "|---|---|---|---|---|"]
        parts += ["| " + " | ".join(row) + " |" for row in rows]
    parts += ["", "Use it:", "", "```bash", "phonasr transcribe . audio.wav            # name<TAB>text",
              "phonasr transcribe --output-format json . audio.wav"]
    if has_graph:
        parts += ["phonasr transcribe --decoder lm . audio.wav  # the word LM through graph/"]
    parts += ["```", "",
              f"`{MANIFEST}` lists every file with its sha256; loading fails on a missing or altered file.", ""]
    return "\n".join(parts)


def parse_source(value: str) -> Tuple[str, Optional[str]]:
    """``CHECKPOINT[:MODEL]`` -> (checkpoint, model name or None)."""
    path, sep, name = value.rpartition(":")
    if sep and path and "/" not in name:
        return path, name or None
    return value, None
