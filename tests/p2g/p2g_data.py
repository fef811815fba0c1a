"""Data of the P2G/G2P tool tests: Polish sentences with phonemes, cut manifests and S2P decode dirs."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from lhotse import AudioSource, CutSet, MonoCut, Recording, SupervisionSegment

from phonasr.decode.outputs import DecodedUtterance, Scored, write_decode_dir
from phonasr.utils.runinfo import write_run_info

SENTENCES = [("ala ma kota", "a l a m a k o t a"), ("to jest dom", "t o j ɛ s t d o m"),
             ("kot ma ale", "k o t m a a l ɛ"), ("dom jest tu", "d o m j ɛ s t t u"),
             ("mama ma kota", "m a m a m a k o t a"), ("tata je", "t a t a j ɛ")]
UTTS = [f"pl-{i:03d}" for i in range(len(SENTENCES))]


def _cut(utt: str, text: str, phones: Optional[str] = None) -> MonoCut:
    recording = Recording(id=utt, sources=[AudioSource(type="file", channels=[0], source=f"/none/{utt}.wav")],
                          sampling_rate=16000, num_samples=16000, duration=1.0)
    sup = SupervisionSegment(id=utt, recording_id=utt, start=0.0, duration=1.0, text=text, language="pl",
                             custom=None if phones is None else {"phones": phones})
    return MonoCut(id=utt, start=0.0, duration=1.0, channel=0, recording=recording, supervisions=[sup])


def write_cuts(path: Path, items: Sequence[Tuple[str, str]], phones: Optional[Dict[str, str]] = None) -> Path:
    """A cut manifest (no features) with these (utterance id, supervision.text), and the utterances' true phonemes
    (supervision.custom['phones']) where ``phones`` has them."""
    CutSet.from_cuts(_cut(utt, text, (phones or {}).get(utt)) for utt, text in items).to_file(path)
    return path


def write_s2p_decode(out: Path, nbest: Dict[str, List[Tuple[float, str]]], ref_field: str = "phones",
                     refs: Optional[Dict[str, str]] = None) -> Path:
    """An S2P decode dir as steps/decode_ctc.sh leaves it (one job): hyp.txt, ref.txt, nbest.txt and the job's
    decode.config.yaml; ``nbest`` maps utterance -> [(log-prob, phones)] best first."""
    refs = refs or {utt: SENTENCES[UTTS.index(utt)][1 if ref_field == "phones" else 0] for utt in nbest}
    write_decode_dir(out, [DecodedUtterance(u, refs[u], [Scored(ph, lp) for lp, ph in hyps])
                           for u, hyps in nbest.items()])
    write_run_info(out / "split1" / "1", "decode", {"ref_field": ref_field})
    return out
