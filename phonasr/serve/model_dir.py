"""The model directory: a trained system that stands alone, and the manifest that proves it is complete.

A model directory holds everything decoding needs and nothing that points outside it::

    model.yaml        the manifest: format, versions, components, settings files and a sha256 per file
    README.md         the model card (language, data, test figures)
    s2p.pt p2g.pt [g2p.pt]   one ``kind: model`` checkpoint per network (plain tensors: weights_only=True)
    lang/<name>/      the tokenizers' lang dirs (tokens.txt, tokenizer.yaml, bpe.model)
    features.yaml     the fbank settings (the CMVN statistics are buffers of the S2P itself)
    decoding.yaml     beams and chunking of ``phonasr transcribe``
    onnx/*.onnx       optional: ONNX exports (``phonasr export-onnx``)
    graph/            optional: HLG.fst, words.txt, graph.yaml of a phone-level graph (``--decoder lm``)

Every path in it is relative to the directory, so it can be copied to another machine and directory. Loading
checks every file the manifest lists against its sha256: a missing or altered file fails naming that file,
before any network is built from a truncated or mixed-up copy.
"""
from __future__ import annotations

import dataclasses
import hashlib
import platform
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional

import yaml

from phonasr.utils.io import atomic_write_text

MANIFEST = "model.yaml"
FORMAT = "phonasr-model"
FORMAT_VERSION = 1
COMPONENTS = ("s2p", "p2g", "g2p")
GRAPH_DIR = "graph"  # the optional phone-level graph of ``--decoder lm``: phonasr.wfst.graph's files
GRAPH_FILES = ("HLG.fst", "words.txt", "graph.yaml")


class ModelDirError(ValueError):
    """A model directory that is incomplete, altered or not one at all; the message names the file and the fix."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def versions() -> Dict[str, str]:
    """The software a model directory was written with (a reader may warn on a mismatch; it never refuses)."""
    import torch

    import phonasr

    return {"phonasr": getattr(phonasr, "__version__", "0.1.0"), "torch": torch.__version__.split("+")[0],
            "python": platform.python_version()}


@dataclasses.dataclass
class Component:
    """One network: its checkpoint file, the model name inside it, and the lang dirs (relative) it reads/writes."""

    weights: str
    name: str
    outputs: str
    inputs: Optional[str] = None  # None: speech features


@dataclasses.dataclass
class Manifest:
    system: str
    language: str
    components: Dict[str, Component]
    files: Dict[str, str]                     # relative path -> sha256
    features: str = "features.yaml"
    decoding: str = "decoding.yaml"
    onnx: Dict[str, str] = dataclasses.field(default_factory=dict)   # component (or component.int8) -> file
    versions: Dict[str, str] = dataclasses.field(default_factory=dict)
    created: str = ""

    def to_yaml(self) -> str:
        data = {"format": FORMAT, "format_version": FORMAT_VERSION, "system": self.system,
                "language": self.language, "created": self.created, "versions": self.versions,
                "components": {k: {f: v for f, v in dataclasses.asdict(c).items() if v is not None}
                               for k, c in self.components.items()},
                "features": self.features, "decoding": self.decoding, "onnx": self.onnx,
                "files": dict(sorted(self.files.items()))}
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write_manifest(model_dir: Path, manifest: Manifest, files: Iterable[str]) -> None:
    """Hash ``files`` (relative to ``model_dir``) into the manifest and write ``model.yaml`` atomically, last, so
    a directory with a manifest is a complete one."""
    for rel in files:
        _check_relative(rel, model_dir)
        manifest.files[rel] = sha256_of(model_dir / rel)
    atomic_write_text(model_dir / MANIFEST, manifest.to_yaml())


def _check_relative(rel: str, model_dir: Path) -> None:
    path = Path(rel)
    if path.is_absolute() or ".." in path.parts:
        raise ModelDirError(f"{model_dir}/{MANIFEST}: file '{rel}' is not inside the model directory; "
                            "a model directory lists only relative paths under itself")


def read_manifest(model_dir: Path) -> Manifest:
    """The manifest of ``model_dir``, checked for shape (not yet against the files: :func:`verify`)."""
    path = model_dir / MANIFEST
    if not model_dir.is_dir():
        raise ModelDirError(f"model directory {model_dir} does not exist; pass the directory a recipe's pack "
                            "stage wrote (exp/<system>/model)")
    if not path.is_file():
        raise ModelDirError(f"{model_dir} has no {MANIFEST}: it is not a packed model directory; pack one with "
                            "steps/pack_model.sh (or `phonasr pack`)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ModelDirError(f"{path} is not valid YAML ({' '.join(str(e).split())}); the file was altered, "
                            "copy the model directory again") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelDirError(f"{path} is not a phonasr model manifest (format: {FORMAT}); copy the model directory "
                            "again")
    if data.get("format_version") != FORMAT_VERSION:
        raise ModelDirError(f"{path} has format_version {data.get('format_version')}, this phonasr reads "
                            f"{FORMAT_VERSION}; use the phonasr version named in its versions: entry")
    try:
        components = {k: Component(**v) for k, v in (data.get("components") or {}).items()}
        manifest = Manifest(system=str(data["system"]), language=str(data["language"]), components=components,
                            files=dict(data.get("files") or {}), features=data.get("features", "features.yaml"),
                            decoding=data.get("decoding", "decoding.yaml"), onnx=dict(data.get("onnx") or {}),
                            versions=dict(data.get("versions") or {}), created=str(data.get("created", "")))
    except (KeyError, TypeError) as e:
        raise ModelDirError(f"{path} lacks or misnames an entry ({e}); copy the model directory again") from None
    for name in ("s2p", "p2g"):
        if name not in manifest.components:
            raise ModelDirError(f"{path} has no '{name}' component; pack the model directory again")
    for rel in manifest.files:
        _check_relative(rel, model_dir)
    return manifest


def verify(model_dir: Path, manifest: Manifest, only: Optional[Iterable[str]] = None) -> None:
    """Check the files the manifest lists (or only those of ``only``): present and with their recorded sha256."""
    wanted = manifest.files if only is None else {rel: manifest.files.get(rel) for rel in only}
    for rel, digest in wanted.items():
        path = model_dir / rel
        if digest is None:
            raise ModelDirError(f"{model_dir}/{MANIFEST} does not list '{rel}'; pack the model directory again")
        if not path.is_file():
            raise ModelDirError(f"model directory {model_dir}: file '{rel}' is missing (listed in {MANIFEST}); "
                                "copy the whole directory again")
        if sha256_of(path) != digest:
            raise ModelDirError(f"model directory {model_dir}: file '{rel}' was altered (its sha256 differs from "
                                f"{MANIFEST}); copy the whole directory again")


@dataclasses.dataclass
class ModelDir:
    """A verified model directory: where it is, its manifest and its settings files (read as plain data)."""

    path: Path
    manifest: Manifest
    features: Dict[str, Any]
    decoding: Dict[str, Any]

    def file(self, rel: str) -> Path:
        return self.path / rel

    def has_onnx(self, component: str, int8: bool = False) -> bool:
        return _onnx_key(component, int8) in self.manifest.onnx

    def onnx_file(self, component: str, int8: bool = False) -> Path:
        key = _onnx_key(component, int8)
        if key not in self.manifest.onnx:
            kind = "an int8 ONNX export" if int8 else "an ONNX export"
            flag = " --int8 true" if int8 else ""
            raise ModelDirError(f"model directory {self.path} has no {kind} of its {component}; run "
                                f"`phonasr export-onnx{flag} {self.path}` first")
        return self.path / self.manifest.onnx[key]


def _onnx_key(component: str, int8: bool) -> str:
    return f"{component}.int8" if int8 else component


def load_model_dir(path: str | Path, verify_files: bool = True) -> ModelDir:
    """Read and (by default) verify a model directory; the networks are built later by their backend."""
    model_dir = Path(path)
    manifest = read_manifest(model_dir)
    if verify_files:
        verify(model_dir, manifest)
    return ModelDir(model_dir, manifest, _settings(model_dir, manifest.features),
                    _settings(model_dir, manifest.decoding))


def _settings(model_dir: Path, rel: str) -> Dict[str, Any]:
    path = model_dir / rel
    if not path.is_file():
        raise ModelDirError(f"model directory {model_dir}: file '{rel}' is missing; copy the whole directory again")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, Mapping):
        raise ModelDirError(f"{path} must hold a mapping of settings; copy the model directory again")
    return dict(data)


def relative_files(model_dir: Path) -> List[str]:
    """Every file under ``model_dir`` except the manifest, as sorted relative POSIX paths."""
    return sorted(p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*")
                  if p.is_file() and p.name != MANIFEST and not p.name.startswith("."))
