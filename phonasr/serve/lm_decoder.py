"""``--decoder lm``: the S2P's phoneme posteriors decoded into words through the packed phone-level graph.

The graph is the recipe's lexicon-free HLG (H over the S2P's phonemes, L spelled by JSA's G2P, G the word
n-gram: ``exp/graph_phone_g2p``), packed under ``graph/`` of the model directory (:mod:`phonasr.serve.pack`),
with the LM weight chosen on dev in decoding.yaml. On the recipe's mini this route beats the S2P -> P2G route
by far with the same LM (test WER 68.0 against 84-90), which is why it is the LM decoder that ships. The P2G
is not used.

Word times. The model directory holds no lexicon (the G2P spelled the words when the graph was built), so a
word's phonemes are read off the best path itself: FasterDecoder's path carries each word label on one arc,
and determinization delays a label until the word is certain, which in practice is on its last phoneme (never
before its first). So a word owns the phonemes (CTC spans of the path) that start after the previous word's
label and no later than its own label's frame; phonemes after the last label belong to the last word. A word
starts at the first frame of its first phoneme and ends after the last frame of its last one; a word that
owns no phoneme gets the frame of its label. Like the P2G route's times these are CTC spike times: onsets are
good to a frame or two, ends fall early.
"""
from __future__ import annotations

import dataclasses
from typing import List, Mapping, Optional, Sequence, Tuple

import torch

from phonasr.decode.wfst import WfstAlignment, WfstOptions, best_path
from phonasr.serve.model_dir import GRAPH_DIR, GRAPH_FILES, ModelDir, ModelDirError
from phonasr.serve.recognizer import Span
from phonasr.serve.recognizer import spans as ctc_spans
from phonasr.wfst.fsts import WordTable
from phonasr.wfst.graph import WORDS_FILE, load_graph, read_graph_info

TimedWord = Tuple[str, int, int]  # (word, first frame, last frame)


@dataclasses.dataclass
class LmResult:
    """One segment decoded through the graph."""

    words: List[TimedWord]
    tokens: List[int]       # the best path's phonemes (CTC-collapsed token ids)
    graph_cost: float       # -log of LM and pronunciation along the path (unscaled)
    acoustic_cost: float    # -sum of the path's frame log-posteriors


class LmDecoder:
    """The packed graph, its word table and the search options (LM weight, beam) of decoding.yaml."""

    def __init__(self, graph, words: WordTable, opts: WfstOptions, vocab_size: int) -> None:
        self.graph, self.words, self.opts, self.vocab_size = graph, words, opts, vocab_size

    def decode(self, log_probs: torch.Tensor, offset: int = 0) -> Optional[LmResult]:
        """The best path of ``log_probs`` (frames x tokens) with frame numbers shifted by ``offset``; None when
        no path reached the graph's end within the beam."""
        if log_probs.size(-1) != self.vocab_size:
            raise ValueError(f"the S2P gives {log_probs.size(-1)} tokens but the packed graph is over "
                             f"{self.vocab_size}; pack the model again with the graph of its phone lang dir")
        alignment = best_path(self.graph, log_probs, self.opts)
        if alignment is None:
            return None
        spans = ctc_spans(alignment.frames)
        words = [(self.words.symbols[w], a + offset, b + offset)
                 for w, (a, b) in zip(alignment.hypothesis.words, word_frames(alignment, spans))]
        return LmResult(words, [tok for tok, _, _ in spans], alignment.hypothesis.graph_cost,
                        alignment.hypothesis.acoustic_cost)


def word_frames(alignment: WfstAlignment, spans: Sequence[Span]) -> List[Tuple[int, int]]:
    """(first frame, last frame) per word of the path: the phonemes each owns by the rule of the module doc."""
    out: List[Tuple[int, int]] = []
    labels = alignment.word_frames
    i = 0
    for k, label in enumerate(labels):
        owned = []
        while i < len(spans) and (spans[i][1] <= label or k == len(labels) - 1):
            owned.append(spans[i])
            i += 1
        out.append((owned[0][1], owned[-1][2]) if owned else (label, label))
    return out


def load_lm_decoder(model_dir: ModelDir, vocab_size: int, settings: Mapping[str, object]) -> LmDecoder:
    """The packed graph of ``model_dir`` (its files were checked against model.yaml when it was loaded)."""
    missing = [name for name in GRAPH_FILES if f"{GRAPH_DIR}/{name}" not in model_dir.manifest.files]
    if missing:
        raise ModelDirError(f"model directory {model_dir.path} has no decoding graph for --decoder lm; pack it "
                            "with --graph exp/graph_phone_g2p (steps/pack_model.sh --graph), or use --decoder beam")
    graph_dir = model_dir.file(GRAPH_DIR)
    info = read_graph_info(graph_dir)
    if info.vocab_size != vocab_size:
        raise ModelDirError(f"{graph_dir} is over {info.vocab_size} tokens but the S2P gives {vocab_size}; pack "
                            "the model again with the graph of its phone lang dir")
    opts = WfstOptions(lm_weight=float(settings.get("lm_weight", 1.0)),  # type: ignore[arg-type]
                       beam=float(settings.get("lm_beam", 16.0)),  # type: ignore[arg-type]
                       max_active=int(settings.get("lm_max_active", 7000)))  # type: ignore[call-overload]
    return LmDecoder(load_graph(graph_dir), WordTable.read(graph_dir / WORDS_FILE), opts, vocab_size)
