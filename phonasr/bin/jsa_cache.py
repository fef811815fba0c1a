"""Write the sample cache of a JSA training checkpoint (``last.pt``, ``best-step*.pt``) as ``utt-id<TAB>phonemes``.

    python -m phonasr.bin.jsa_cache [--exclude MANIFEST] CHECKPOINT OUT

The cache holds each chain's latest state: what JSA trains the S2P, P2G and G2P on. Scored against the true
phonemes (``python -m phonasr.bin.score compute --metric per REF OUT DIR``), it says whether the chains reach a
posterior better than the S2P alone; ``--exclude`` drops the utterances of a manifest (the labelled subset, whose
S2P and G2P targets are the truth anyway), so the PER is that of phonemes learnt from text alone.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from lhotse import CutSet

from phonasr.jsa.cache import SampleCache
from phonasr.utils.io import load_checkpoint
from phonasr.utils.logging import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a JSA training state (last.pt or best-step*.pt)")
    parser.add_argument("out", help="utt-id<TAB>space-separated phonemes, sorted by utterance id")
    parser.add_argument("--exclude", default=None,
                        help="cut manifest whose supervisions are left out (e.g. the labelled subset)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging()
    state = load_checkpoint(args.checkpoint)
    shared = (state.get("task_shared") or {}) if isinstance(state, dict) else {}
    if "cache" not in shared:
        print(f"error: {args.checkpoint} holds no JSA sample cache (a training state of a JSA run has one; "
              "final.pt, the averaged model, does not)", file=sys.stderr)
        return 2
    symbols = state.get("symbols")
    if not symbols:
        print(f"error: {args.checkpoint} records no phoneme symbols", file=sys.stderr)
        return 2
    cache = SampleCache()
    cache.load_state_dict(shared["cache"])
    excluded = set()
    if args.exclude:
        excluded = {sup.id for cut in CutSet.from_jsonl_lazy(args.exclude) for sup in cut.supervisions}
    rows = sorted((utt, " ".join(symbols[i] for i in ids)) for utt, ids in cache.items() if utt not in excluded)
    with open(args.out, "w", encoding="utf-8") as f:
        for utt, text in rows:
            f.write(f"{utt}\t{text}\n")
    print(f"{len(rows)} cached samples ({len(excluded & {u for u, _ in cache.items()})} excluded) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
