"""``exp/RESULTS_units.md`` of a units recipe: every table its stages measured, with the seeds' own figures beside.

The stages leave small TSVs where their outputs are (``exp/units/<encoder>/abx_<set>/abx.tsv``,
``.../purity_<set>/purity.tsv``, ``exp/unit_lm_<encoder>_<init>/spot_the_word/spot_the_word.tsv``) and the token
ASR's scores in ``exp/results.tsv``; this module only reads and lays them out, so a table never disagrees with
the files it came from. A measurement that has not run yet is left out, not shown as zero.

The seeds' figures come from other models and data (HuBERT on LibriSpeech, XLS-R on ML-SUPERB): they say what
direction the method moved things there, not what the mini should reach.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from phonasr.scoring.results import read_results

CONDITIONS = (("within", "within"), ("within", "across"), ("any", "within"), ("any", "across"))
ENCODER_NAMES = {
    "s2p_pretrain": "pretrained multilingual S2P",
    "s2p_ft_phone": "phoneme CTC FT, ~10 min",
    "frame_ce": "phoneme classification FT, ~10 min",
    "frame_ce_1h": "phoneme classification FT, all training labels",
}
SEED_001 = ("Seed 001 (arXiv 2410.00025; HuBERT Base, LibriSpeech): triphone any-context ABX 9.8 -> 5.1 after "
            "phoneme classification on 10 minutes of labels; sWUGGY 81.8 from the fine-tuned units (83.5 for a "
            "model trained on 100x more data).")
SEED_003 = ("Seed 003 (\"Multilingual Speech Recognition Using Discrete Tokens with a Two-step Training Strategy\", "
            "2025; XLS-R, ML-SUPERB): two-step training cut the discrete-token ASR's CER by 44% relative.")


def _tsv(path: Path) -> List[Dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _name(encoder: str) -> str:
    return ENCODER_NAMES.get(encoder, encoder)


def _encoder_order(path: Path) -> Tuple[int, str]:
    """The recipe's order (pretrained, CTC FT, classification FT 10 min, 1 h), then any other encoder by name;
    ``path`` is a file of ``exp/units/<encoder>/<measurement>/``."""
    encoder = path.parent.parent.name
    return (list(ENCODER_NAMES).index(encoder) if encoder in ENCODER_NAMES else len(ENCODER_NAMES), encoder)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def abx_section(exp: Path, abx_set: str) -> List[str]:
    rows = []
    for path in sorted(exp.glob(f"units/*/abx_{abx_set}/abx.tsv"), key=_encoder_order):
        encoder = path.parent.parent.name
        cells: Dict[Tuple[str, str, str], str] = {
            (r["layer"], r["context"], r["speaker"]): f"{100 * float(r['error']):.2f}" for r in _tsv(path)}
        for layer in sorted({key[0] for key in cells}, key=int):
            rows.append([_name(encoder), layer] + [cells.get((layer, *c), "–") for c in CONDITIONS])
    if not rows:
        return []
    header = ["encoder", "layer"] + [f"{c} context, {s} speaker" for c, s in CONDITIONS]
    return [f"## ABX error (%) of triphones on {abx_set}, per layer", "",
            "Centre-phone frames, DTW with the angular distance (steps/abx.sh). Lower is better.", "",
            *_table(header, rows), "", SEED_001, ""]


def purity_section(exp: Path, abx_set: str) -> List[str]:
    rows = []
    for path in sorted(exp.glob(f"units/*/purity_{abx_set}/purity.tsv"), key=_encoder_order):
        (r,) = _tsv(path)
        rows.append([_name(path.parent.parent.name), r["k"], f"{float(r['phone_purity']):.3f}",
                     f"{float(r['cluster_purity']):.3f}", f"{float(r['pnmi']):.3f}", r["frames"]])
    if not rows:
        return []
    return [f"## k-means units against the frame labels of {abx_set}", "",
            *_table(["encoder", "k", "phone purity", "cluster purity", "PNMI", "frames"], rows), ""]


def spot_the_word_section(exp: Path) -> List[str]:
    rows = []
    for path in sorted(exp.glob("unit_lm_*/spot_the_word/spot_the_word.tsv")):
        lm = path.parent.parent.name[len("unit_lm_"):]
        encoder, _, init = lm.rpartition("_")
        by = {r["scoring"]: r for r in _tsv(path)}
        rows.append([_name(encoder), init, by["sum"]["accuracy"] if "sum" in by else "–",
                     by["mean"]["accuracy"] if "mean" in by else "–", next(iter(by.values()))["pairs"]])
    if not rows:
        return []
    return ["## Spot-the-word accuracy (%) of the unit LMs", "",
            "A real word and a pseudo-word (1-2 phonemes changed, same phonotactics), both spoken by espeak-ng; the "
            "LM must give the word the higher log-probability (sum: of the sequence, as sWUGGY; mean: per unit). "
            "50 is chance.", "",
            *_table(["LM on the units of", "embeddings", "by sum", "by mean", "pairs"], rows), ""]


def token_asr_section(results_tsv: Path, abx_set: str) -> List[str]:
    if not results_tsv.is_file():
        return []
    scores: Dict[str, Dict[str, str]] = {}
    for row in read_results(results_tsv):
        system = row["system"]
        if row["test_set"] == abx_set and (system == "fbank_asr" or system.startswith("token_asr_")):
            scores.setdefault(system, {})[row["metric"]] = row["value"]
    if not scores:
        return []
    rows = []
    one_step_cer: Optional[float] = None
    for system in sorted(scores, key=lambda s: (s != "fbank_asr", s)):
        if system == "fbank_asr":
            label = "fbank (the same encoder size, from scratch)"
        else:
            encoder, _, layer = system[len("token_asr_"):].rpartition("_l")
            step = "one step" if encoder == "s2p_pretrain" else "two steps"
            label = f"units of {_name(encoder)}, layer {layer} ({step})"
            if encoder == "s2p_pretrain" and "CER" in scores[system]:
                one_step_cer = float(scores[system]["CER"])
        rows.append([label, scores[system].get("WER", "–"), scores[system].get("CER", "–")])
    lines = [f"## Discrete-token ASR on {abx_set}", "", *_table(["input", "WER", "CER"], rows), ""]
    two_step = [float(s["CER"]) for name, s in scores.items()
                if name.startswith("token_asr_") and "s2p_pretrain" not in name and "CER" in s]
    if one_step_cer and two_step:
        best = min(two_step)
        lines += [f"Two steps vs one: best CER {best:.2f} vs {one_step_cer:.2f}, "
                  f"{100 * (one_step_cer - best) / one_step_cer:+.0f}% relative reduction.", ""]
    return lines + [SEED_003, ""]


def units_report(exp: str | Path, abx_set: str = "test") -> str:
    exp = Path(exp)
    sections = [abx_section(exp, abx_set), purity_section(exp, abx_set), spot_the_word_section(exp),
                token_asr_section(exp / "results.tsv", abx_set)]
    body = [line for section in sections for line in section]
    if not body:
        raise ValueError(f"{exp} holds no units results yet (abx.tsv, purity.tsv, spot_the_word.tsv or token ASR "
                         "rows in results.tsv); run the units recipe's stages 9-12 first")
    return "\n".join(["# Discrete units from the S2P encoder", "", *body])
