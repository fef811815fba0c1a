"""Training a word n-gram LM with KenLM's ``lmplz`` (built by ``utils/install.sh --kenlm true``).

``--discount_fallback`` is always passed: the modified Kneser-Ney discounts cannot be estimated from the count
statistics of a small corpus (a few thousand sentences), and lmplz would otherwise stop with BadDiscountException.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

from phonasr.utils.io import atomic_path

logger = logging.getLogger(__name__)

LMPLZ = "lmplz"


def find_lmplz() -> str:
    """lmplz next to the running Python (where utils/install.sh puts it), else on PATH."""
    beside = Path(sys.executable).parent / LMPLZ
    found = str(beside) if beside.is_file() else shutil.which(LMPLZ)
    if not found:
        raise FileNotFoundError(f"KenLM's {LMPLZ} is neither in {beside.parent} nor on PATH; build it with "
                                "`bash utils/install.sh --kenlm true` (needs cmake and the boost dev packages)")
    return found


def train_arpa(texts: Sequence[str | Path], out: str | Path, order: int = 4, memory: str = "10%",
               lmplz: Optional[str] = None) -> Path:
    """An order-``order`` modified Kneser-Ney ARPA LM of the sentences (one per line) of ``texts``, into ``out``."""
    if order < 1:
        raise ValueError(f"the n-gram order must be >= 1, got {order}")
    paths = [Path(t) for t in texts]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"LM training text {path} does not exist")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    binary = lmplz or find_lmplz()
    start = time.time()
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp, atomic_path(out) as target:
        corpus = Path(tmp) / "text.txt"
        with open(corpus, "w", encoding="utf-8") as f:
            for path in paths:
                f.writelines(line + "\n" for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        if corpus.stat().st_size == 0:
            raise ValueError(f"no non-blank line in {', '.join(map(str, paths))}: nothing to train an LM on")
        command = [binary, "--order", str(order), "--discount_fallback", "--memory", memory, "--temp_prefix",
                   tmp + "/", "--text", str(corpus), "--arpa", str(target)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    logger.info("trained a %d-gram LM of %s into %s in %.1f s", order, ", ".join(map(str, paths)), out,
                time.time() - start)
    return out
