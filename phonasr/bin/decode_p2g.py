"""S2P -> P2G decoding without an LM (steps/decode_p2g.sh): the S2P's phonemes in, words out.

    python -m phonasr.bin.decode_p2g [--beam 16] [--nbest 1] [--nbest-in 1] [--model-name p2g] [--cuts CUTS]
                                     CHECKPOINT S2P_DECODE_DIR OUT_DIR

CHECKPOINT is a P2G of the token task (its final.pt) or a JSA final.pt (the model ``p2g`` in it); the model's
``model_specs`` entry names its phoneme (input) and BPE (output) lang dirs. Writes into OUT_DIR:

  hyp.txt      utt<TAB>words           the best hypothesis, BPE pieces joined into words
  ref.txt      utt<TAB>words           supervision.text of --cuts; without --cuts the S2P dir's ref.txt, which must
                                       hold text (its decoding recorded --ref-field text)
  nbest.txt    utt<TAB>rank<TAB>score<TAB>words
  logprobs.pt  {input id: (T', V) float32 P2G log-posteriors}, with --save-logprobs true (for WFST / MLS); the input
               id is the utterance, or utt-rank for the S2P's rank-th hypothesis with --nbest-in > 1
  decode_p2g.config.yaml / decode_p2g.versions.json

Scores. With --nbest-in 1 (the paper's decoding) the P2G reads the S2P 1-best h (hyp.txt) and the score is the
P2G's log P(y | h) from the prefix beam search. With --nbest-in K the P2G reads each of the S2P's K best h_k
(nbest.txt, score log P(h_k | x)) and a subword sequence y scores

    log sum_k P(h_k | x) P(y | h_k)

over the inputs whose P2G beam holds y: the marginal P(y | x) = sum_h P(h | x) P(y | h) restricted to the S2P
n-best and the P2G beams. A y that several S2P hypotheses support thus beats one that only the best supports
narrowly. An empty S2P hypothesis gives the empty y with P(y | h) = 1 (the P2G is not run on it). In both cases
y is a word sequence: subword sequences that spell the same words are merged, their probabilities added (with
--nbest-in K the P2G keeps its whole beam per input, so the sums see every output it found).

The model loading and batched beam search here are shared with phonasr.bin.g2p_nbest (G2P decoding of text).
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch
import yaml

from phonasr.batching.padding import pad_ids
from phonasr.batching.pairs import PairBatchSampler
from phonasr.bin.decode_ctc import write_outputs
from phonasr.bin.make_pairs import S2PHypothesis, cut_texts, read_s2p_hypotheses
from phonasr.ctc import Hypothesis, prefix_beam_search
from phonasr.models import CtcModel, TransformerConfig, build_model, model_config
from phonasr.scoring.texts import read_utt_texts
from phonasr.tokenizers import PhonemeTokenizer, Tokenizer, load_tokenizer
from phonasr.train.checkpoint import load_model_checkpoint, stored_model
from phonasr.utils.io import atomic_torch_save
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info

logger = logging.getLogger("phonasr.bin.decode_p2g")

LOGPROBS = "logprobs.pt"


# ------------------------------------------------------------------------------------------------- model
@dataclass
class TokenModel:
    """A token-to-token CTC model (P2G or G2P) with the tokenizers it reads and writes."""

    model: CtcModel
    name: str
    inputs: Tokenizer
    outputs: Tokenizer
    input_dir: str
    output_dir: str


def resolve_device(name: str) -> torch.device:
    return torch.device(("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name)


def load_token_model(path: str, model_name: Optional[str], prefer: str, device: torch.device,
                     input_dir: Optional[str] = None, output_dir: Optional[str] = None) -> TokenModel:
    """Model ``model_name`` of checkpoint ``path`` (default: the one called ``prefer``, else the only one), in
    eval mode, with its tokenizers: the lang dirs its ``model_specs`` records unless given, checked against the
    symbols it was trained with (same-sized tables in another order would decode every id wrongly)."""
    source = stored_model(load_model_checkpoint(path), path, model_name, prefer=prefer)
    if not isinstance(model_config(source.spec.config), TransformerConfig):
        raise ValueError(f"model '{source.name}' of {path} is not a token model (P2G/G2P) but reads features; "
                         "decode it with steps/decode_ctc.sh")
    input_dir = input_dir or source.spec.input_dir
    output_dir = output_dir or source.spec.output_dir
    if not input_dir or not output_dir:
        raise ValueError(f"model '{source.name}' of {path} records no input/output lang dirs; pass "
                         "--input-tokenizer-dir and --output-tokenizer-dir")
    inputs, outputs = load_tokenizer(input_dir), load_tokenizer(output_dir)
    source.check_symbols("input", inputs.symbols, input_dir)
    source.check_symbols("output", outputs.symbols, output_dir)
    model = build_model(dict(source.spec.config), outputs.vocab_size, inputs.vocab_size)
    try:
        model.load_state_dict(source.state)
    except RuntimeError as e:
        raise ValueError(f"the weights of model '{source.name}' in {path} do not fit the tokenizers {input_dir} -> "
                         f"{output_dir}: {e}") from e
    return TokenModel(model.to(device).eval(), source.name, inputs, outputs, input_dir, output_dir)


# ------------------------------------------------------------------------------------------------- search
@dataclass
class TokenDecodeResult:
    hypotheses: List[List[Hypothesis]]          # per input, best first
    log_probs: Optional[List[torch.Tensor]]     # per input (T', V) on the CPU, when asked for


def _batches(lengths: Sequence[int], max_tokens: int) -> List[List[int]]:
    """Indices of the non-empty inputs in batches of similar length, at most ``max_tokens`` padded input tokens
    each (the token task's dev-set batching)."""
    nonempty = [i for i, n in enumerate(lengths) if n > 0]
    if not nonempty:
        return []
    sampler = PairBatchSampler([lengths[i] for i in nonempty], max_tokens, shuffle=False, num_buckets=1, seed=0)
    return [[nonempty[j] for j in batch] for batch in sampler.epoch_batches(1)]


def decode_token_sequences(tm: TokenModel, inputs: Sequence[Sequence[int]], beam: int, nbest: int,
                           max_tokens: int = 20000, keep_log_probs: bool = False, log_every: int = 20
                           ) -> TokenDecodeResult:
    """Prefix beam search of ``tm`` on every input id sequence, batched by length; an empty input gets the
    empty hypothesis with log-probability 0 (the only output CTC allows) without running the model."""
    device = next(tm.model.parameters()).device
    hyps: List[List[Hypothesis]] = [[Hypothesis([], 0.0)] for _ in inputs]
    saved: Optional[List[torch.Tensor]] = [torch.zeros(0, tm.model.vocab_size) for _ in inputs] \
        if keep_log_probs else None
    start, done = time.time(), 0
    for n, batch in enumerate(_batches([len(x) for x in inputs], max_tokens), start=1):
        tokens, lengths = pad_ids([inputs[i] for i in batch], device)
        with torch.no_grad():
            log_probs, out_lens = tm.model(tokens, lengths)
        for i, result in zip(batch, prefix_beam_search(log_probs, out_lens, beam=beam, nbest=nbest)):
            hyps[i] = result
        if saved is not None:
            for row, i in enumerate(batch):
                saved[i] = log_probs[row, : int(out_lens[row])].cpu().clone()
        done += len(batch)
        if n % log_every == 0:
            logger.info("%s: %d batches, %d/%d sequences, %.1f sequences/s", tm.name, n, done, len(inputs),
                        done / max(time.time() - start, 1e-9))
    logger.info("%s: decoded %d sequences (%d empty) in %.1f s", tm.name, len(inputs), len(inputs) - done,
                time.time() - start)
    return TokenDecodeResult(hyps, saved)


def encode_phones(tokenizer: Tokenizer, hyp: S2PHypothesis) -> List[int]:
    try:
        return tokenizer.encode(hyp.phones)
    except ValueError as e:
        raise ValueError(f"{hyp.file}:{hyp.line}: the S2P hypothesis does not fit the P2G's phoneme tokenizer: {e}; "
                         "the S2P and P2G use different inventories") from e


# ------------------------------------------------------------------------------------------------- combination
@dataclass(frozen=True)
class Scored:
    words: str
    score: float


def combine(s2p: Sequence[S2PHypothesis], p2g: Sequence[Sequence[Hypothesis]], nbest: int,
            detokenize: Callable[[List[int]], str]) -> List[Scored]:
    """The ``nbest`` best word sequences of one utterance by ``log sum_k P(h_k|x) P(y|h_k)`` (see the module doc);
    with one S2P hypothesis read from hyp.txt (no S2P score) the P2G's own scores. Subword sequences that spell
    the same words (another segmentation, a stray word boundary) are one hypothesis: their probabilities add."""
    totals: Dict[str, float] = {}
    for h, outputs in zip(s2p, p2g):
        for y in outputs:
            score = y.log_prob + (h.log_prob or 0.0)
            words = " ".join(detokenize(y.tokens).split())
            totals[words] = _logaddexp(totals[words], score) if words in totals else score
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:nbest]
    return [Scored(words, score) for words, score in ranked]


def _logaddexp(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return hi if lo == -math.inf else hi + math.log1p(math.exp(lo - hi))


# ------------------------------------------------------------------------------------------------- references
def s2p_ref_field(s2p_dir: Path) -> Optional[str]:
    """What the S2P decoding put in ref.txt (``text`` or ``phones``), from the run info its jobs recorded."""
    fields = set()
    for config in [s2p_dir / "decode.config.yaml", *sorted(s2p_dir.glob("split*/*/decode.config.yaml"))]:
        if config.is_file():
            fields.add((yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("ref_field"))
    if len(fields) > 1:
        raise ValueError(f"the decoding jobs of {s2p_dir} recorded different ref fields {sorted(map(str, fields))}")
    return fields.pop() if fields else None


def references(s2p_dir: Path, utts: Sequence[str], cuts: Optional[str]) -> Dict[str, str]:
    """Word references of the decoded utterances (see the module doc); every one needs one, and ``--cuts`` must
    not hold cuts the S2P did not decode (the WER would silently cover a subset)."""
    if cuts:
        texts = {utt: text for utt, (text, _) in cut_texts(cuts).items()}
        source = cuts
    else:
        field = s2p_ref_field(s2p_dir)
        if field != "text":
            found = f"holds {field}" if field else "has no decode.config.yaml saying what it holds"
            raise ValueError(f"{s2p_dir}/ref.txt {found}; pass --cuts <manifest> to take the references from "
                             "supervision.text")
        texts = read_utt_texts(s2p_dir / "ref.txt")
        source = str(s2p_dir / "ref.txt")
    missing = sorted(set(utts) - set(texts))
    extra = sorted(set(texts) - set(utts))
    if missing or extra:
        raise ValueError(f"the utterances of {source} and of the S2P decoding {s2p_dir} differ: {len(missing)} "
                         f"decoded ones have no reference (e.g. {missing[:3]}), {len(extra)} references were not "
                         f"decoded (e.g. {extra[:3]}); use the manifest the S2P decoded")
    return {utt: texts[utt] for utt in utts}


# ------------------------------------------------------------------------------------------------- main
def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="P2G final.pt (token task) or JSA final.pt")
    parser.add_argument("s2p_dir", help="S2P decode dir (hyp.txt; nbest.txt for --nbest-in > 1)")
    parser.add_argument("out_dir", help="where hyp.txt, ref.txt, nbest.txt (and logprobs.pt) go")
    parser.add_argument("--model-name", default=None, help="model in the checkpoint (default: p2g, else its only one)")
    parser.add_argument("--input-tokenizer-dir", default=None, help="phoneme lang dir (default: the recorded one)")
    parser.add_argument("--output-tokenizer-dir", default=None, help="BPE lang dir (default: the recorded one)")
    parser.add_argument("--cuts", default=None, help="cut manifest whose supervision.text are the references")
    parser.add_argument("--beam", type=int, default=16, help="P2G prefix beam width")
    parser.add_argument("--nbest", type=int, default=1, help="hypotheses per utterance in nbest.txt")
    parser.add_argument("--nbest-in", type=int, default=1,
                        help="S2P hypotheses read per utterance: 1 = hyp.txt, K > 1 = K best of nbest.txt, combined")
    parser.add_argument("--max-tokens", type=int, default=20000, help="padded input tokens per batch")
    parser.add_argument("--save-logprobs", choices=("true", "false"), default="false",
                        help="true: also write the P2G log-posteriors to logprobs.pt")
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda, cuda:N")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if not 1 <= args.nbest <= args.beam:
        raise ValueError(f"need 1 <= --nbest <= --beam, got nbest {args.nbest}, beam {args.beam}")
    s2p_dir, out_dir = Path(args.s2p_dir), Path(args.out_dir)
    s2p = read_s2p_hypotheses(s2p_dir, args.nbest_in)
    utts = sorted(s2p)
    refs = references(s2p_dir, utts, args.cuts)  # a reference problem fails before any decoding
    device = resolve_device(args.device)
    tm = load_token_model(args.checkpoint, args.model_name, "p2g", device, args.input_tokenizer_dir,
                          args.output_tokenizer_dir)
    if not isinstance(tm.inputs, PhonemeTokenizer):
        raise ValueError(f"model '{tm.name}' of {args.checkpoint} reads {tm.input_dir} ({tm.inputs.type_name}), "
                         "not phonemes: it is not a P2G (for a JSA checkpoint use --model-name p2g)")
    logger.info("P2G '%s' of %s on %s: %d utterances of %s, %d S2P hypotheses each at most, beam %d, nbest %d",
                tm.name, args.checkpoint, device, len(utts), s2p_dir, args.nbest_in, args.beam, args.nbest)

    inputs = [(utt, h) for utt in utts for h in s2p[utt]]
    # with several inputs per utterance every P2G hypothesis in the beam may add to a combined score
    per_input = args.nbest if args.nbest_in == 1 else args.beam
    result = decode_token_sequences(tm, [encode_phones(tm.inputs, h) for _, h in inputs], args.beam, per_input,
                                    args.max_tokens, keep_log_probs=args.save_logprobs == "true")
    by_utt: Dict[str, List[List[Hypothesis]]] = {utt: [] for utt in utts}
    for (utt, _), hyps in zip(inputs, result.hypotheses):
        by_utt[utt].append(hyps)

    hyp_lines, ref_lines, nbest_lines = [], [], []
    empty = 0
    for utt in utts:
        ranked = combine(s2p[utt], by_utt[utt], args.nbest, tm.outputs.decode)
        empty += not ranked[0].words
        hyp_lines.append(f"{utt}\t{ranked[0].words}")
        ref_lines.append(f"{utt}\t{refs[utt]}")
        nbest_lines.extend(f"{utt}\t{rank}\t{s.score:.4f}\t{s.words}" for rank, s in enumerate(ranked, start=1))
    write_outputs(out_dir, hyp_lines, ref_lines, nbest_lines)
    if result.log_probs is not None:
        keys = [utt if args.nbest_in == 1 else f"{utt}-{h.rank}" for utt, h in inputs]
        atomic_torch_save(dict(zip(keys, result.log_probs)), out_dir / LOGPROBS)
    write_run_info(out_dir, "decode_p2g", vars(args))
    logger.info("wrote %d hypotheses (%d empty) to %s", len(hyp_lines), empty, out_dir)


if __name__ == "__main__":
    main()
