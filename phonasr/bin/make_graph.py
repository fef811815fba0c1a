"""Decoding graph HLG for WFST decoding (steps/make_graph.sh).

    python -m phonasr.bin.make_graph [--lexicon spelling|g2p|espeak|FILE] [--g2p CHECKPOINT] [--g2p-nbest 2]
                                     [--max-states N] TOKEN_LANG_DIR ARPA OUT_DIR

TOKEN_LANG_DIR is the lang dir of the model whose posteriors are decoded (its tokens are H's labels); ARPA the
word LM (steps/make_lm.sh), whose words are the vocabulary. L spells each word:

  spelling  in the tokens of a text lang dir, BPE pieces or characters (the TLG of the subword and P2G
            decodings); a character model's word boundary is optional between words
  g2p       in phonemes, by the learned G2P of --g2p (its --g2p-nbest pronunciations, weighted): lexicon-free
  espeak    in phonemes as espeak-ng says each word, in the lang dir's inventory (the human-lexicon upper bound)
  FILE      in phonemes from a ``word<TAB>phonemes`` lexicon (the upper bound on a real corpus); words it lacks are
            left out

Writes OUT_DIR/HLG.fst, words.txt and graph.yaml (sizes and build time).
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Sequence

from phonasr.decode.g2p_lexicon import g2p_lexicon
from phonasr.lm.arpa import read_arpa
from phonasr.tokenizers import BpeTokenizer, CharTokenizer, PhonemeTokenizer, Tokenizer, load_tokenizer
from phonasr.utils.cli import device_name
from phonasr.utils.device import choose_device
from phonasr.utils.logging import setup_logging
from phonasr.utils.runinfo import write_run_info
from phonasr.wfst.fsts import WordTable
from phonasr.wfst.graph import DEFAULT_MAX_STATES, make_graph_dir
from phonasr.wfst.lexicon import Pronunciation, espeak_lexicon, read_lexicon, spelling_lexicon


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("token_lang_dir", help="lang dir of the decoded model's tokens")
    parser.add_argument("arpa", help="word n-gram LM")
    parser.add_argument("out_dir", help="where HLG.fst, words.txt, graph.yaml go")
    parser.add_argument("--lexicon", default="spelling",
                        help="spelling, g2p, espeak, or a word<TAB>phonemes file (default: %(default)s)")
    parser.add_argument("--g2p", default=None, help="G2P final.pt (token task) or JSA final.pt, for --lexicon g2p")
    parser.add_argument("--g2p-model", default=None, help="model in --g2p (default: g2p, else its only one)")
    parser.add_argument("--g2p-nbest", type=int, default=2, help="pronunciations per word from the G2P")
    parser.add_argument("--g2p-beam", type=int, default=16, help="G2P prefix beam width")
    parser.add_argument("--max-states", type=int, default=DEFAULT_MAX_STATES,
                        help="stop determinization past this many states (a blow-up) with an error")
    parser.add_argument("--device", default="auto", type=device_name,
                        help="for the G2P: auto (cuda when present), cpu, cuda, cuda:N")
    return parser


def pronunciations(args: argparse.Namespace, tokenizer: Tokenizer, words: List[str]) -> List[Pronunciation]:
    if args.lexicon == "spelling":
        if not isinstance(tokenizer, (BpeTokenizer, CharTokenizer)):
            raise SystemExit(f"error: --lexicon spelling needs a BPE or character lang dir, but {args.token_lang_dir} "
                             f"is {tokenizer.type_name}; for phonemes use --lexicon g2p, espeak or a lexicon file")
        return spelling_lexicon(words, tokenizer)
    if args.lexicon == "g2p":
        if not args.g2p:
            raise SystemExit("error: --lexicon g2p needs --g2p CHECKPOINT (the trained G2P or JSA final.pt)")
        return g2p_lexicon(args.g2p, words, nbest=args.g2p_nbest, beam=args.g2p_beam, model_name=args.g2p_model,
                           device=choose_device(args.device))
    if args.lexicon == "espeak":
        if not isinstance(tokenizer, PhonemeTokenizer):
            raise SystemExit(f"error: --lexicon espeak needs a phoneme lang dir, but {args.token_lang_dir} is "
                             f"{tokenizer.type_name}")
        return espeak_lexicon(words, tokenizer.inventory)
    return read_lexicon(args.lexicon, words)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = get_parser().parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging()
    tokenizer = load_tokenizer(args.token_lang_dir)
    words = WordTable(read_arpa(args.arpa).vocabulary)
    lexicon = pronunciations(args, tokenizer, words.words)
    make_graph_dir(args.out_dir, lexicon, tokenizer, args.token_lang_dir, args.arpa, words, args.max_states)
    write_run_info(args.out_dir, "make_graph", vars(args))


if __name__ == "__main__":
    main()
