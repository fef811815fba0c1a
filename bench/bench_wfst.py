"""WFST decoding benchmark: FasterDecoder against the S2P encoder, n-best against 1-best, graph build cost.

    python bench/bench_wfst.py [--sentences 1000] [--order 4] [--bpe-size 500] [--utts 8] [--seconds 5]
                               [--preset tiny] [--repeats 3] [--big-words 100000] [--big-sentences 60000]
                               [--big-order 4] [--work-dir DIR] [--json FILE]

Everything is built here, in a temporary folder, from what the machine has (no trained model needed):
* the mini LM: ``--sentences`` Polish sentences of fortunes-pl (the mini recipe's text source), normalised as the
  recipe does, a ``--order``-gram ARPA by lmplz (phonasr.lm.train); a BPE TLG over a ``--bpe-size`` SentencePiece
  model of the same text, and a phone HLG over espeak-ng's phonemes with two weighted pronunciations per word
  (espeak-ng's, p=0.7, and one with a phoneme substituted, p=0.3: the shape of the learned G2P's 2-best);
* the "audio": ``--utts`` utterances of ``--seconds`` of random 80-dim features at 100 Hz through a randomly
  initialised Conformer S2P of preset ``--preset`` (the mini recipe's size; random weights time the same as
  trained ones). Its output frame count sets the posteriors' length;
* the posteriors: a random model's are flat, unlike a trained CTC model's, and decoding time depends on that; so
  they are synthetic but peaked: a frame path spelling random LM sentences (blanks between tokens, 1-3 repeats),
  log-softmax of ``--noise`` x N(0, 1) logits with ``--peak`` added on the path.

Measured, all on one thread (per core) in this one run:
(a) FasterDecoder (beam 16, max-active 7000) frames/s and its time / the encoder's time on the same audio, for the
    BPE TLG and the phone HLG (goal: <= 1);
(b) LatticeSimpleDecoder + 64-best time / FasterDecoder time (goal: <= 5), and the distinct hypotheses found;
(c) graph build time and peak RSS (ru_maxrss of a fresh subprocess that builds only the graph, next to that of
    one that only imports) for the mini LM's two graphs and for a ``--big-words``-word LM (synthetic text: every
    word at least once, then Zipfian sentences; ``--big-sentences`` sentences in all) with its BPE TLG.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import torch

STRESS_AND_LENGTH = "ˈˌː"


# --- inputs ---------------------------------------------------------------------------------------------------

def mini_sentences(count: int) -> List[str]:
    """The first ``count`` speakable fortunes-pl sentences (files in sorted order), normalised as the LM text."""
    from phonasr.data.synth.sentences import speakable_sentences
    from phonasr.text.normalise import normalise_text
    from phonasr.text.sources import read_paragraphs, source_files

    out: List[str] = []
    for path in source_files("fortune:pl"):
        for sentence in speakable_sentences(read_paragraphs("fortune:pl", path), "pl", 3, 15):
            out.append(normalise_text(sentence, "pl").text)
            if len(out) == count:
                return out
    return out


def synthetic_sentences(num_words: int, num_sentences: int, seed: int = 0) -> List[str]:
    """Text over ``num_words`` distinct made-up words: each word once (shuffled into 8-word sentences), then
    Zipfian sentences of 4-12 words up to ``num_sentences`` in all."""
    rng = random.Random(seed)
    letters = "aąbcćdeęfghijklłmnńoóprsśtuwyzźż"
    words: Dict[str, None] = {}
    while len(words) < num_words:
        words["".join(rng.choice(letters) for _ in range(rng.randint(3, 10)))] = None
    vocab = list(words)
    shuffled = vocab[:]
    rng.shuffle(shuffled)
    sentences = [" ".join(shuffled[i:i + 8]) for i in range(0, len(shuffled), 8)]
    cum_weights, total = [], 0.0
    for rank in range(num_words):
        total += 1.0 / (rank + 1)
        cum_weights.append(total)
    while len(sentences) < num_sentences:
        sentences.append(" ".join(rng.choices(vocab, cum_weights=cum_weights, k=rng.randint(4, 12))))
    return sentences


def phone_lexicon(words: Sequence[str], seed: int = 0) -> Tuple[List[str], list]:
    """espeak-ng's phonemes of each word (p=0.7) and a variant with one phoneme substituted (p=0.3)."""
    from phonasr.phonemes.espeak import espeak_phonemes
    from phonasr.wfst.lexicon import Pronunciation

    rng = random.Random(seed)
    spelled = []
    for word, phones in zip(words, espeak_phonemes(list(words), "pl")):
        units = [u.strip(STRESS_AND_LENGTH) for u in phones.replace(" ", "_").split("_")]
        spelled.append((word, tuple(u for u in units if u)))
    units = sorted({u for _, tokens in spelled for u in tokens})
    lexicon = []
    for word, tokens in spelled:
        if not tokens:
            continue
        lexicon.append(Pronunciation(word, tokens, -math.log(0.7)))
        variant = list(tokens)
        variant[rng.randrange(len(variant))] = rng.choice(units)
        if tuple(variant) != tokens:
            lexicon.append(Pronunciation(word, tuple(variant), -math.log(0.3)))
    return units, lexicon


def peaked_posteriors(spellings: List[List[int]], frames: int, vocab: int, peak: float, noise: float,
                      gen: torch.Generator) -> torch.Tensor:
    """(frames, vocab) log-posteriors peaked on a CTC frame path through the token strings ``spellings`` (taken in
    turn until ``frames`` is filled; blank is 0)."""
    path: List[int] = [0]
    for tokens in spellings:
        for t in tokens:
            path += [t] * int(torch.randint(1, 4, (1,), generator=gen)) + [0]
        if len(path) >= frames:
            break
    path = (path + [0] * frames)[:frames]
    logits = noise * torch.randn(frames, vocab, generator=gen)
    logits[torch.arange(frames), torch.tensor(path)] += peak
    return torch.log_softmax(logits, dim=-1)


# --- graph builds, each in its own process (peak RSS) -----------------------------------------------------------

def build_child(spec_file: str) -> None:
    """Subprocess entry: build one graph from a spec (or only import, for the baseline); print a JSON result."""
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    from phonasr.wfst.fsts import WordTable
    from phonasr.wfst.graph import make_graph_dir
    from phonasr.wfst.lexicon import Pronunciation

    result: Dict = {"import_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if spec["kind"] != "baseline":
        from phonasr.lm.arpa import read_arpa
        from phonasr.tokenizers import PhonemeTokenizer
        from phonasr.tokenizers.lang_dir import load_tokenizer

        tokenizer = (load_tokenizer(spec["lang_dir"]) if spec["kind"] == "bpe"
                     else PhonemeTokenizer.from_units(spec["units"]))
        lexicon = [Pronunciation(w, tuple(t), c) for w, t, c in spec["lexicon"]]
        start = time.time()
        words = WordTable(read_arpa(spec["arpa"]).vocabulary)
        info = make_graph_dir(spec["out"], lexicon, tokenizer, spec["kind"], spec["arpa"], words)
        result.update(seconds=time.time() - start, states=info.states, arcs=info.arcs, words=info.words,
                      pronunciations=info.pronunciations)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def build_graph(work: Path, name: str, spec: Dict) -> Dict:
    spec_file = work / f"{name}.spec.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--build-child", str(spec_file)],
                         capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"building {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def lexicon_rows(lexicon) -> list:
    return [[p.word, list(p.tokens), p.cost] for p in lexicon]


# --- decoding --------------------------------------------------------------------------------------------------

def timed(fn, repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def bench_decoding(name: str, graph_dir: Path, spellings: List[List[int]], vocab: int, args: argparse.Namespace
                   ) -> Dict:
    """Encoder forward of the audio, then FasterDecoder and lattice + n-best on peaked posteriors as long as the
    encoder's output."""
    from phonasr.decode.wfst import WfstOptions, nbest, one_best
    from phonasr.models import build_model
    from phonasr.wfst.graph import load_graph

    torch.manual_seed(0)
    model = build_model({"type": "conformer", "preset": args.preset}, vocab).eval()
    gen = torch.Generator().manual_seed(1)
    frames = int(args.seconds * 100)
    feats = [torch.randn(1, frames, 80, generator=gen) for _ in range(args.utts)]
    with torch.no_grad():
        model(feats[0], torch.tensor([frames]))  # warm-up
        outputs: List[int] = []

        def encode() -> None:
            outputs.clear()
            for f in feats:
                log_probs, lens = model(f, torch.tensor([frames]))
                outputs.append(int(lens[0]))

        encoder_s = timed(encode, args.repeats)
    rng = random.Random(2)
    posteriors = [peaked_posteriors(rng.sample(spellings, 20), n, vocab, args.peak, args.noise, gen) for n in outputs]
    graph = load_graph(graph_dir)
    opts = WfstOptions(beam=args.beam, max_active=args.max_active, lattice_beam=args.lattice_beam, nbest=args.nbest)
    one_best(graph, posteriors[0], opts)  # warm-up
    best: list = []
    lists: list = []

    def decode_one_best() -> None:
        best[:] = [one_best(graph, x, opts) for x in posteriors]

    def decode_nbest() -> None:
        lists[:] = [nbest(graph, x, opts) for x in posteriors]

    one_best_s = timed(decode_one_best, args.repeats)
    nbest_s = timed(decode_nbest, args.repeats)
    agree = sum(1 for b, n in zip(best, lists) if b is not None and n and n[0].words == b.words)
    total = sum(outputs)
    return {"graph": name, "utts": args.utts, "frames": total, "encoder_s": encoder_s, "one_best_s": one_best_s,
            "nbest_s": nbest_s, "one_best_fps": total / one_best_s, "nbest_fps": total / nbest_s,
            "one_best_over_encoder": one_best_s / encoder_s, "nbest_over_one_best": nbest_s / one_best_s,
            "mean_hyps": sum(len(n) for n in lists) / len(lists), "nbest0_is_1best": f"{agree}/{len(lists)}"}


# --- main ------------------------------------------------------------------------------------------------------

def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=1000, help="mini LM: fortunes-pl sentences")
    parser.add_argument("--order", type=int, default=4, help="mini LM order")
    parser.add_argument("--bpe-size", type=int, default=500)
    parser.add_argument("--utts", type=int, default=8, help="utterances decoded per graph")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each utterance")
    parser.add_argument("--preset", default="tiny", help="S2P conformer preset (the mini recipe's: tiny)")
    parser.add_argument("--peak", type=float, default=6.0, help="logit added on the posteriors' frame path")
    parser.add_argument("--noise", type=float, default=1.0, help="std of the posteriors' random logits")
    parser.add_argument("--beam", type=float, default=16.0)
    parser.add_argument("--max-active", type=int, default=7000)
    parser.add_argument("--lattice-beam", type=float, default=8.0)
    parser.add_argument("--nbest", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="timings are the median of this many runs")
    parser.add_argument("--big-words", type=int, default=100000, help="vocabulary of the big LM; 0 skips it")
    parser.add_argument("--big-sentences", type=int, default=60000, help="sentences of the big LM's text")
    parser.add_argument("--big-order", type=int, default=4)
    parser.add_argument("--work-dir", default=None, help="keep the built LMs and graphs here (default: temporary)")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--build-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_child:
        build_child(args.build_child)
        return

    from phonasr.lm.train import train_arpa
    from phonasr.tokenizers import BpeTokenizer
    from phonasr.tokenizers.lang_dir import save_tokenizer
    from phonasr.wfst.lexicon import spelling_lexicon

    torch.set_num_threads(1)
    tmp = None if args.work_dir else tempfile.TemporaryDirectory(prefix="bench_wfst.")
    work = Path(args.work_dir or tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    print(f"# torch {torch.__version__}, 1 thread, median of {args.repeats}; S2P conformer '{args.preset}' "
          f"(random init); {args.utts} x "
          f"{args.seconds:g} s; posteriors peak {args.peak:g} noise {args.noise:g}; beam {args.beam:g}, max-active "
          f"{args.max_active}, lattice beam {args.lattice_beam:g}, {args.nbest}-best; work dir {work}")

    # mini LM and its two graphs
    sentences = mini_sentences(args.sentences)
    (work / "mini.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")
    arpa = train_arpa([work / "mini.txt"], work / "mini.arpa", order=args.order)
    words = sorted({w for s in sentences for w in s.split()})
    bpe = BpeTokenizer.train(sentences, args.bpe_size, work / "lang_bpe")
    save_tokenizer(bpe, work / "lang_bpe")
    units, phones = phone_lexicon(words)
    builds = {"baseline (imports only)": build_graph(work, "baseline", {"kind": "baseline"})}
    builds["mini BPE TLG"] = build_graph(work, "mini_bpe", {
        "kind": "bpe", "lang_dir": str(work / "lang_bpe"), "arpa": str(arpa), "out": str(work / "graph_bpe"),
        "lexicon": lexicon_rows(spelling_lexicon(words, bpe))})
    builds["mini phone HLG"] = build_graph(work, "mini_phone", {
        "kind": "phone", "units": units, "arpa": str(arpa), "out": str(work / "graph_phone"),
        "lexicon": lexicon_rows(phones)})
    print(f"# mini LM: {len(sentences)} sentences, {len(words)} words, order {args.order}; BPE {bpe.vocab_size} "
          f"pieces; {len(units)} phonemes, {len(phones)} pronunciations")

    # decoding on both graphs
    bpe_spell = [bpe.encode(s) for s in sentences]
    pron = {p.word: p.tokens for p in reversed(phones)}  # the first (espeak-ng's) pronunciation of each word
    phone_ids = {u: i + 1 for i, u in enumerate(units)}
    phone_spell = [[phone_ids[u] for w in s.split() if w in pron for u in pron[w]] for s in sentences]
    rows = [bench_decoding("mini BPE TLG", work / "graph_bpe", bpe_spell, bpe.vocab_size, args),
            bench_decoding("mini phone HLG", work / "graph_phone", phone_spell, len(units) + 1, args)]

    # the big LM
    if args.big_words:
        big = synthetic_sentences(args.big_words, args.big_sentences)
        (work / "big.txt").write_text("\n".join(big) + "\n", encoding="utf-8")
        start = time.time()
        big_arpa = train_arpa([work / "big.txt"], work / "big.arpa", order=args.big_order)
        lm_seconds = time.time() - start
        big_words = sorted({w for s in big for w in s.split()})
        big_bpe = BpeTokenizer.train(big, args.bpe_size, work / "lang_bpe_big")
        save_tokenizer(big_bpe, work / "lang_bpe_big")
        builds[f"{len(big_words) // 1000}k-word BPE TLG"] = build_graph(work, "big_bpe", {
            "kind": "bpe", "lang_dir": str(work / "lang_bpe_big"), "arpa": str(big_arpa),
            "out": str(work / "graph_bpe_big"), "lexicon": lexicon_rows(spelling_lexicon(big_words, big_bpe))})
        print(f"# big LM: {len(big)} synthetic sentences, {len(big_words)} words, order {args.big_order}, lmplz "
              f"{lm_seconds:.1f} s, ARPA {os.path.getsize(big_arpa) / 2**20:.0f} MiB")

    print("\ngraph\tframes\tencoder_s\t1best_s\t1best_frames/s\t1best/encoder\tnbest_s\tnbest/1best\thyps\tnbest0=1best")
    for r in rows:
        print(f"{r['graph']}\t{r['frames']}\t{r['encoder_s']:.3f}\t{r['one_best_s']:.3f}\t{r['one_best_fps']:.0f}\t"
              f"{r['one_best_over_encoder']:.2f}\t{r['nbest_s']:.3f}\t{r['nbest_over_one_best']:.2f}\t"
              f"{r['mean_hyps']:.1f}\t{r['nbest0_is_1best']}")
    print("\nbuild\tseconds\tpeak_rss_mb\tstates\tarcs")
    for name, b in builds.items():
        print(f"{name}\t{b.get('seconds', 0):.1f}\t{b['peak_rss_mb']:.0f}\t{b.get('states', '-')}\t"
              f"{b.get('arcs', '-')}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "decoding": rows, "builds": builds}, indent=2),
                                   encoding="utf-8")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main(sys.argv[1:])
