"""Where the references of a decoding come from: a cut's supervision, or the ref.txt of the S2P decoding it reads."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

from lhotse import CutSet
from lhotse.cut import Cut

from phonasr.decode.outputs import REF, DecodedUtterance, Scored, read_references, recorded_ref_field, write_decode_dir

REF_FIELDS = ("text", "phones")


def reference(cut: Cut, field: str) -> str:
    """``supervision.text`` (field ``text``) or ``supervision.custom["phones"]`` (``phones``) of a one-supervision
    cut."""
    if len(cut.supervisions) != 1:
        raise ValueError(f"cut '{cut.id}' has {len(cut.supervisions)} supervisions; decoding expects exactly one "
                         "per cut (the manifests of local/commonvoice/prepare.sh)")
    sup = cut.supervisions[0]
    if field == "text":
        return sup.text or ""
    phones = (sup.custom or {}).get("phones")
    if phones is None:
        raise ValueError(f"cut '{cut.id}' has no supervision.custom['phones']; use --ref-field text or a manifest "
                         "with ground-truth phonemes")
    return phones


def cut_texts(cuts_path: str | Path) -> Dict[str, Tuple[str, int]]:
    """Cut id -> (supervision.text, 1-based line of the cut in the manifest)."""
    if not Path(cuts_path).is_file():
        raise FileNotFoundError(f"cut manifest {cuts_path} does not exist")
    return {cut.id: (reference(cut, "text"), line) for line, cut in enumerate(CutSet.from_file(cuts_path), 1)}


def word_references(s2p_dir: Path, utts: Sequence[str], cuts: Optional[str]) -> Dict[str, str]:
    """Word references of the utterances of an S2P decoding: the supervision.text of ``cuts``, or without a
    manifest the S2P dir's ref.txt, which must hold text. Every utterance needs one, and ``cuts`` must not hold
    cuts the S2P did not decode (the WER would silently cover a subset)."""
    if cuts:
        texts = {utt: text for utt, (text, _) in cut_texts(cuts).items()}
        source = cuts
    else:
        field = recorded_ref_field(s2p_dir)
        if field != "text":
            found = f"holds {field}" if field else "has no decode.config.yaml saying what it holds"
            raise ValueError(f"{s2p_dir}/{REF} {found}; pass --cuts <manifest> to take the references from "
                             "supervision.text")
        texts = read_references(s2p_dir)
        source = str(s2p_dir / REF)
    missing = sorted(set(utts) - set(texts))
    extra = sorted(set(texts) - set(utts))
    if missing or extra:
        raise ValueError(f"the utterances of {source} and of the S2P decoding {s2p_dir} differ: {len(missing)} "
                         f"decoded ones have no reference (e.g. {missing[:3]}), {len(extra)} references were not "
                         f"decoded (e.g. {extra[:3]}); use the manifest the S2P decoded")
    return {utt: texts[utt] for utt in utts}


def write_oracle_dir(cuts_path: str | Path, out_dir: str | Path, field: str) -> int:
    """A decode dir whose hypotheses are the references themselves: what a perfect recogniser of ``field`` would
    write. A P2G decoding that reads it (``field`` phones) measures the P2G alone, the ceiling of every S2P -> P2G
    system. Returns the number of utterances."""
    if field not in REF_FIELDS:
        raise ValueError(f"unknown reference field {field!r}; choose from {', '.join(REF_FIELDS)}")
    if not Path(cuts_path).is_file():
        raise FileNotFoundError(f"cut manifest {cuts_path} does not exist")
    decoded = [DecodedUtterance(cut.id, ref, [Scored(ref, 0.0)])
               for cut in CutSet.from_file(cuts_path) for ref in [" ".join(reference(cut, field).split())]]
    write_decode_dir(out_dir, sorted(decoded, key=lambda d: d.utt))
    return len(decoded)
