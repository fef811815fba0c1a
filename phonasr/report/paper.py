"""The paper's own Polish figures, printed beside ours for reference (never compared by code).

Source: Yusuyin, Ma, Huang, Ou, "JSA-SPG", arXiv 2507.06249, CommonVoice 11 Polish test set (main table) and
Polish VoxPopuli test set (language-domain adaptation); summarised in shared/reference/jsa-spg.md. WER % unless
PER; None where the paper has no number.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

Figures = Tuple[Optional[float], Optional[float], Optional[float], Optional[float]]  # PER, no LM, LM, MLS

SOURCE = "arXiv 2507.06249"

IN_DOMAIN: Dict[str, Figures] = {  # CommonVoice 11 Polish test
    "phoneme_ft": (1.97, None, 4.30, None),
    "subword_ft": (None, 5.84, 3.82, None),
    "spg_init": (17.72, 8.73, 4.68, 5.91),
    "jsa": (17.35, 8.19, 4.65, 3.93),
    "jsa_aug": (17.35, 4.64, 4.37, 3.64),
}

OTHER_DOMAIN: Dict[str, Figures] = {  # Polish VoxPopuli test (text-only language-domain adaptation)
    "subword_ft": (None, 33.46, 22.58, None),
    "jsa_lda": (None, 28.87, 23.84, 20.57),
}
