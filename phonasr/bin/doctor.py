"""Report what this machine offers phonasr and what is missing, with the line that fixes it.

Run ``python -m phonasr.bin.doctor`` (or ``phonasr-doctor``). It exits non-zero when anything a recipe needs is
missing; optional accelerators (k2, kaldifeat, a GPU) are reported but only required with ``--require``.
In the k2 environment (.venv-k2) use ``--profile k2``: that environment only carries what the k2 tests import.
"""
from __future__ import annotations

import argparse
import importlib
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

INSTALL = "bash utils/install.sh"
# The optional parts --require can make required (the names of their checks, lower-cased).
OPTIONAL = ("gpu", "k2", "k2-gpu", "kaldifeat")


@dataclass
class Check:
    name: str
    probe: Callable[[], Optional[str]]  # returns a version/description, or raises / returns None when absent
    fix: str
    required: bool


def _module_version(module: str, distribution: Optional[str] = None) -> Callable[[], Optional[str]]:
    """Import ``module`` (proving it loads) and report its version, from the package metadata if needed."""

    def probe() -> Optional[str]:
        mod = importlib.import_module(module)
        version = getattr(mod, "__version__", None)
        return str(version) if version else _distribution_version(distribution or module)

    return probe


def _tool_version(tool: str, args: List[str]) -> Callable[[], Optional[str]]:
    def probe() -> Optional[str]:
        if shutil.which(tool) is None:
            return None
        out = subprocess.run([tool, *args], capture_output=True, text=True, timeout=30)
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0][:80] if text else "installed"

    return probe


def _ffmpeg_mp3() -> Optional[str]:
    """The synthetic corpus is CommonVoice-style mp3 written by ffmpeg's libmp3lame encoder, which a minimal
    ffmpeg build can lack: ffmpeg being on PATH is not enough."""
    if shutil.which("ffmpeg") is None:
        return None
    out = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30)
    return "libmp3lame" if re.search(r"^\s*A\S*\s+libmp3lame\b", out.stdout, re.MULTILINE) else None


def _distribution_version(name: str) -> str:
    from importlib import metadata

    return metadata.version(name)


def _torch() -> Optional[str]:
    import torch

    cuda = torch.version.cuda or "none"
    return f"{torch.__version__} (CUDA build: {cuda})"


def _gpu() -> Optional[str]:
    import torch

    if not torch.cuda.is_available():
        return None
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return ", ".join(names)


def _gpu_fix() -> str:
    """What would give this machine a usable GPU: which half is missing (a CUDA torch, a visible device) decides."""
    try:
        import torch
    except ImportError:
        return INSTALL
    if torch.version.cuda is None:
        return (f"torch {torch.__version__} is a CPU build: on a machine with an NVIDIA GPU, install a CUDA torch into "
                "the base python3.11 (https://pytorch.org/get-started/locally/), then rm -rf .venv && "
                f"{INSTALL} (it keeps that torch)")
    return (f"torch {torch.__version__} has CUDA {torch.version.cuda} but sees no GPU: check that nvidia-smi lists "
            "one and that CUDA_VISIBLE_DEVICES does not hide it")


def _k2() -> Optional[str]:
    import k2
    import torch

    # Prove it works, not only that it imports: a one-arc CTC graph and a loss on it.
    graph = k2.ctc_graph([[1]])
    log_probs = torch.zeros(1, 2, 2).log_softmax(-1)
    dense = k2.DenseFsaVec(log_probs, torch.tensor([[0, 0, 2]], dtype=torch.int32))
    loss = k2.ctc_loss(graph, dense, reduction="sum")
    if not torch.isfinite(loss):
        raise RuntimeError("k2.ctc_loss returned a non-finite value")
    usable, why = k2_gpu_status()
    return f"{_distribution_version('k2')} ({k2_build_text()}; GPU: {'yes' if usable else 'no'}, {why})"


K2_GPU_FIX = ("install the k2 wheel built for this machine's torch and CUDA from k2's own wheel index, or build k2 "
              "from source against that torch (README, 'k2 on a GPU')")


def _k2_build() -> Tuple[str, str, List[int]]:
    """(torch version, CUDA version, sm architectures) that the imported k2 was compiled for."""
    import _k2  # k2's extension module; k2 imports it (after torch) on the way in

    archs = sorted({int(a) for a in re.findall(r"code=sm_(\d+)", _k2.version.cmake_cuda_flags)})
    return _k2.version.torch_version, _k2.version.cuda_version, archs


def k2_build_text() -> str:
    k2_torch, k2_cuda, archs = _k2_build()
    return f"built for torch {k2_torch}, CUDA {k2_cuda}" + (f", sm_{archs[0]}-sm_{archs[-1]}" if archs else "")


def k2_trial_decoding(device: str) -> None:
    """A one-token CTC graph intersected with two frames on ``device``, as decoding does; raises when k2 fails."""
    import k2
    import torch

    graph = k2.ctc_graph([[1]]).to(device)
    dense = k2.DenseFsaVec(torch.zeros(1, 2, 2, device=device).log_softmax(-1),
                           torch.tensor([[0, 0, 2]], dtype=torch.int32))
    lattice = k2.intersect_dense_pruned(graph, dense, 20.0, 8.0, 30, 10000)
    if lattice.num_arcs == 0:
        raise RuntimeError("k2's trial intersection came back empty")


def k2_gpu_status() -> Tuple[bool, str]:
    """Whether the imported k2 can run on this machine's GPU, and why (not): a CPU-only build, no GPU visible to
    torch, or a GPU newer than the architectures k2 was compiled for (PyPI's only k2, 1.23.2, is a CUDA 10.2
    build for sm_35-sm_75: an A100/H100 is sm_80/sm_90). When all looks right, a tiny intersection on the GPU
    decides."""
    import k2
    import torch

    archs = _k2_build()[2]
    if not k2.with_cuda:
        return False, "a CPU-only k2 build"
    if not torch.cuda.is_available():
        return False, f"torch {torch.__version__} (CUDA build: {torch.version.cuda or 'none'}) sees no GPU"
    major, minor = torch.cuda.get_device_capability(0)
    name = torch.cuda.get_device_name(0)
    if archs and 10 * major + minor > archs[-1]:
        return False, f"the {name} is sm_{major}{minor}, newer than any architecture k2 was compiled for"
    try:
        k2_trial_decoding("cuda")
    except Exception as exc:  # any failure of the trial is the answer: k2 cannot use this GPU
        return False, f"a trial decoding on the {name} failed: {str(exc).splitlines()[0][:80]}"
    return True, f"decodes on the {name}"


def _k2_gpu() -> Optional[str]:
    usable, why = k2_gpu_status()
    if not usable:
        raise RuntimeError(why)
    return why


def _kaldifeat() -> Optional[str]:
    import kaldifeat
    import torch

    opts = kaldifeat.FbankOptions()
    opts.frame_opts.dither = 0
    feats = kaldifeat.Fbank(opts)(torch.zeros(16000))
    return f"{getattr(kaldifeat, '__version__', 'installed')} (fbank {tuple(feats.shape)})"


# bench/bench_fbank.py on a CPU, one thread: kaldifeat ~3x as fast as kaldi-native-fbank (545 s of speech in 1.1 s
# instead of 4.0 s), which repays its 10-15 minute build only on corpora of tens of hours; utils/install.sh
# therefore builds it only where torch has CUDA, or when asked.
KALDIFEAT_ON_CPU = "on a CPU its ~3x faster fbank repays the build only on corpora of tens of hours"


def _kaldifeat_build_failed() -> bool:
    """utils/install.sh leaves .kaldifeat-failed in the venv when the kaldifeat build failed."""
    return (Path(sys.prefix) / ".kaldifeat-failed").is_file()


def _kaldifeat_fix() -> str:
    if _kaldifeat_build_failed():
        return f"{INSTALL} --retry-kaldifeat true  (the last build failed; log: .cache/install/kaldifeat.log)"
    return f"{INSTALL} --kaldifeat true  (builds it from its sdist, 10-15 min on 2 cores; {KALDIFEAT_ON_CPU})"


def _fbank_backend() -> Optional[str]:
    """The backend that fbank's ``auto`` (steps/make_fbank.sh's default) picks here, and why."""
    import torch

    from phonasr.features.backends import is_available, resolve_backend

    name = resolve_backend("auto")
    if not is_available(name):
        return None
    if name == "kaldifeat":
        where = "the GPU" if torch.cuda.is_available() else "the CPU"
        return f"kaldifeat (installed; computes on {where})"
    if _kaldifeat_build_failed():
        why = f"kaldifeat's build failed: `{INSTALL} --retry-kaldifeat true` retries it"
    else:
        why = f"kaldifeat not installed: `{INSTALL} --kaldifeat true` builds it; {KALDIFEAT_ON_CPU}"
    return f"{name} ({why})"


def checks(profile: str, require: List[str]) -> List[Check]:
    def need(name: str) -> bool:
        return name in require

    k2_fix = f"{INSTALL} --k2 true   (then run doctor with .venv-k2/bin/python --profile k2)"
    if profile == "k2":
        return [
            Check("torch", _torch, k2_fix, True),
            Check("k2", _k2, k2_fix, True),
            Check("k2 on GPU", _k2_gpu, K2_GPU_FIX, need("k2-gpu")),
            Check("numpy", _module_version("numpy"), k2_fix, True),
            Check("kaldifst", _module_version("kaldifst"), k2_fix, True),
            Check("kaldi-decoder", _module_version("kaldi_decoder", "kaldi-decoder"), k2_fix, True),
            Check("kaldilm", _module_version("kaldilm"), k2_fix, True),
            Check("phonasr.ctc", _module_version("phonasr.ctc", "phonasr"), "pip install -e . in .venv-k2", True),
        ]
    return [
        Check("torch", _torch, INSTALL, True),
        Check("GPU", _gpu, _gpu_fix(), need("gpu")),
        Check("k2", _k2, k2_fix, need("k2")),
        Check("k2 on GPU", _k2_gpu, K2_GPU_FIX, need("k2-gpu")),
        Check("kaldifeat", _kaldifeat, _kaldifeat_fix(), need("kaldifeat")),
        Check("kaldi-native-fbank", _module_version("kaldi_native_fbank"), INSTALL, False),
        Check("fbank backend", _fbank_backend, INSTALL, True),
        Check("lhotse", _module_version("lhotse"), INSTALL, True),
        Check("lilcom", _module_version("lilcom"), INSTALL, True),
        Check("sentencepiece", _module_version("sentencepiece"), INSTALL, True),
        Check("soundfile", _module_version("soundfile"), INSTALL, True),
        Check("kaldialign", _module_version("kaldialign"), INSTALL, True),
        Check("kaldifst", _module_version("kaldifst"), INSTALL, True),
        Check("kaldi-decoder", _module_version("kaldi_decoder"), INSTALL, True),
        Check("kaldilm", _module_version("kaldilm", "kaldilm"), INSTALL, True),
        Check("tensorboard", _module_version("tensorboard"), INSTALL, True),
        Check("espeak-ng", _tool_version("espeak-ng", ["--version"]), "apt-get install espeak-ng", True),
        Check("sox", _tool_version("sox", ["--version"]), "apt-get install sox libsox-fmt-mp3", True),
        Check("ffmpeg", _tool_version("ffmpeg", ["-version"]), "apt-get install ffmpeg", True),
        Check("ffmpeg mp3 encoder", _ffmpeg_mp3,
              "apt-get install ffmpeg   (Debian's build has libmp3lame; the synthetic corpus is mp3)", True),
    ]


def run_checks(items: List[Check]) -> int:
    failures = 0
    for check in items:
        try:
            found = check.probe()
            error = None
        except Exception as exc:  # a broken install must be reported, whatever it raises
            found, error = None, f"{type(exc).__name__}: {exc}".splitlines()[0][:100]
        if found is not None:
            print(f"  [ok]      {check.name:<20} {found}")
            continue
        status = "MISSING" if check.required else "absent"
        reason = f" ({error})" if error else ""
        print(f"  [{status}] {check.name:<20}{reason}\n            fix: {check.fix}")
        failures += int(check.required)
    return failures


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=["recipe", "k2"], default="recipe",
                        help="recipe: everything the recipes need (.venv); k2: the k2 test environment (.venv-k2)")
    parser.add_argument("--require", default="",
                        help=f"comma-separated optional parts to require: {','.join(OPTIONAL)}")
    args = parser.parse_args(argv)
    require = [r for r in args.require.split(",") if r]
    unknown = sorted(set(require) - set(OPTIONAL))
    if unknown:  # a typo must not silently require nothing
        parser.error(f"--require: unknown part(s) {', '.join(unknown)}; choose from {', '.join(OPTIONAL)}")
    print(f"phonasr doctor: Python {platform.python_version()} ({sys.executable}), profile {args.profile}")
    failures = run_checks(checks(args.profile, require))
    if failures:
        print(f"doctor: {failures} required component(s) missing; run the fix lines above")
        sys.exit(1)
    print("doctor: everything the recipes need is present")


if __name__ == "__main__":
    main()
