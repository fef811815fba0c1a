"""Audio -> phonemes -> words with times: the S2P and the P2G of a model directory, without a language model
(``greedy``, ``beam``), or the S2P and the packed phone-level graph with its word LM (``lm``, see
:mod:`phonasr.serve.lm_decoder`).

Long audio. The Conformer attends over the whole input (memory grows with the square of its length: 10 minutes
would need gigabytes per layer), so the S2P reads chunks of ``chunk_seconds`` with ``context_seconds`` of
audio on each side that it sees but whose outputs are dropped; the kept outputs tile the recording exactly, so
an input no longer than one chunk plus its two contexts is decoded in one piece, as in the recipe. The P2G
attends over a whole phoneme sequence too; it reads segments of at most ``segment_seconds``, cut in the middle
of the longest run of frames whose best S2P label is blank (a pause) that leaves both sides at least a quarter
of the limit. Each segment is searched on its own, and the words of the segments are joined.

Times. The S2P's CTC alignment (its best path for greedy decoding, the forced alignment of the hypothesis for
beam decoding) gives each phoneme the frames on which it is emitted; the P2G's alignment gives each output
token the phoneme positions it was emitted from (input positions // upsample). A word starts at the first frame
of its first token's first phoneme and ends after the last frame of its last token's last phoneme. CTC emits
in peaks, so these are the times of the phonemes' spikes: good to a frame (40 ms) or two for word onsets,
while ends fall early by the last phoneme's duration.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from phonasr.ctc import BLANK, forced_align, greedy_search, prefix_beam_search
from phonasr.features.backends import create_backend
from phonasr.features.config import INT16_SCALE, LOG_FLOOR, FbankConfig
from phonasr.models.conformer import subsampled_lengths
from phonasr.serve.networks import Network
from phonasr.tokenizers import WORD_BOUNDARY, Tokenizer

if TYPE_CHECKING:
    from phonasr.serve.lm_decoder import LmDecoder

logger = logging.getLogger(__name__)

DECODERS = ("greedy", "beam", "lm")
SUBSAMPLING = 4  # S2P output frames per input frame: the Conformer's conv front end


@dataclasses.dataclass
class Word:
    word: str
    start: float
    end: float


@dataclasses.dataclass
class Transcript:
    name: str
    text: str
    phonemes: str
    words: List[Word]
    s2p_score: float   # log P(h | x) (beam) or the best path's log-probability (greedy), summed over segments
    p2g_score: float   # log P(y | h), likewise
    duration: float
    segments: int
    graph_cost: Optional[float] = None     # lm: the best paths' graph (LM + pronunciation) costs, summed
    acoustic_cost: Optional[float] = None  # lm: -sum of their frame log-posteriors


@dataclasses.dataclass
class Settings:
    decoder: str = "beam"
    s2p_beam: int = 16
    p2g_beam: int = 16
    chunk_seconds: float = 30.0
    context_seconds: float = 2.0
    segment_seconds: float = 20.0
    max_batch_frames: int = 40000   # padded S2P input frames per network call
    max_batch_tokens: int = 20000   # padded P2G input tokens per network call
    lm_weight: float = 1.0          # lm: λ of λ·graph + acoustic (the recipe's dev choice, packed)
    lm_beam: float = 16.0
    lm_max_active: int = 7000

    @classmethod
    def from_mapping(cls, values: Dict[str, object]) -> Settings:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]


Span = Tuple[int, int, int]  # (token id, first frame, last frame)


def spans(path: Sequence[int], offset: int = 0) -> List[Span]:
    """The emitted tokens of a CTC frame path with the frames of each (repeats merge, blanks separate)."""
    out: List[Span] = []
    prev = BLANK
    for t, label in enumerate(path):
        if label != BLANK:
            if label == prev:
                out[-1] = (label, out[-1][1], t + offset)
            else:
                out.append((label, t + offset, t + offset))
        prev = label
    return out


def split_points(best: np.ndarray, max_len: int) -> List[Tuple[int, int]]:
    """Segments ``[a, b)`` of ``len(best)`` frames, each at most ``max_len``, cut in the middle of the longest
    blank run (``best`` is the per-frame argmax) that leaves both sides at least ``max_len // 4`` frames."""
    total = len(best)
    if total <= max_len:
        return [(0, total)]
    margin = max(1, max_len // 4)
    lo, hi = margin, total - margin
    blank = best[lo:hi] == BLANK
    cut, run_len, best_run = (lo + hi) // 2, 0, 0
    for i, is_blank in enumerate(blank):
        run_len = run_len + 1 if is_blank else 0
        if run_len > best_run:
            best_run, cut = run_len, lo + i - run_len // 2
    left = split_points(best[:cut], max_len)
    right = split_points(best[cut:], max_len)
    return left + [(a + cut, b + cut) for a, b in right]


def word_groups(tokens: Sequence[int], tokenizer: Tokenizer) -> List[List[int]]:
    """Indices into ``tokens`` grouped into words: a piece starting with the word-boundary mark (SentencePiece's
    and the character tokenizer's) starts a word; a bare boundary token only separates."""
    groups: List[List[int]] = []
    fresh = True
    for i, tok in enumerate(tokens):
        symbol = tokenizer.symbols[tok]
        if symbol == WORD_BOUNDARY:
            fresh = True
            continue
        if fresh or symbol.startswith(WORD_BOUNDARY) or not groups:
            groups.append([])
        groups[-1].append(i)
        fresh = False
    return groups


class Recognizer:
    """S2P + P2G decoding of whole recordings (mono samples in [-1, 1] at the model's rate)."""

    def __init__(self, s2p: Network, p2g: Network, features: Dict[str, object], settings: Settings,
                 fbank_backend: str = "auto", lm: Optional[LmDecoder] = None) -> None:
        if settings.decoder not in DECODERS:
            raise ValueError(f"unknown decoder '{settings.decoder}'; choose one of {', '.join(DECODERS)}")
        if settings.decoder == "lm" and lm is None:
            raise ValueError("--decoder lm needs the model directory's decoding graph (load_recognizer loads it)")
        self.s2p, self.p2g, self.settings, self.lm = s2p, p2g, settings, lm
        self.config = FbankConfig(**features)  # type: ignore[arg-type]
        self.fbank = create_backend(fbank_backend, self.config, device="cpu")
        self.frame_seconds = SUBSAMPLING * self.config.frame_shift_s
        frames_per_second = 1.0 / self.config.frame_shift_s
        self.chunk = max(SUBSAMPLING, _multiple(settings.chunk_seconds * frames_per_second))
        self.context = max(2 * SUBSAMPLING, _multiple(settings.context_seconds * frames_per_second))
        self.segment = max(8, int(settings.segment_seconds / self.frame_seconds))

    # ------------------------------------------------------------------ S2P
    def features(self, samples: Sequence[np.ndarray]) -> List[np.ndarray]:
        return self.fbank.compute([s * INT16_SCALE for s in samples])

    def s2p_log_probs(self, feats: Sequence[np.ndarray]) -> List[torch.Tensor]:
        """Per recording, its (T', V) S2P log-posteriors, computed chunk by chunk (see the module doc)."""
        pieces = []  # (recording, slice start, slice end, first kept output frame, end of kept output frames)
        totals = [int(subsampled_lengths(torch.tensor(f.shape[0]))) for f in feats]
        for r, f in enumerate(feats):
            n = f.shape[0]
            if n <= self.chunk + 2 * self.context:
                pieces.append((r, 0, n, 0, totals[r]))
                continue
            for c in range(0, n, self.chunk):
                keep_from, keep_to = c // SUBSAMPLING, min((c + self.chunk) // SUBSAMPLING, totals[r])
                if keep_from >= keep_to:
                    break
                end = n if keep_to == totals[r] else min(n, c + self.chunk + self.context)
                pieces.append((r, max(0, c - self.context), end, keep_from, keep_to))
        vocab = self.s2p.outputs.vocab_size
        out = [torch.zeros(t, vocab) for t in totals]
        order = sorted(range(len(pieces)), key=lambda i: pieces[i][2] - pieces[i][1], reverse=True)
        for batch in _batches(order, [pieces[i][2] - pieces[i][1] for i in range(len(pieces))],
                              self.settings.max_batch_frames):
            longest = max(self.s2p.min_frames, max(pieces[i][2] - pieces[i][1] for i in batch))
            x = np.full((len(batch), longest, self.s2p.input_dim), LOG_FLOOR, dtype=np.float32)
            lengths = np.zeros(len(batch), dtype=np.int64)
            for row, i in enumerate(batch):
                r, a, b, _, _ = pieces[i]
                x[row, : b - a] = feats[r][a:b]
                lengths[row] = b - a
            log_probs, _ = self.s2p.run(x, lengths)
            for row, i in enumerate(batch):
                r, a, _, keep_from, keep_to = pieces[i]
                local = keep_from - a // SUBSAMPLING
                out[r][keep_from:keep_to] = log_probs[row, local: local + keep_to - keep_from]
        return out

    # ------------------------------------------------------------------ search
    def _search(self, log_probs: Sequence[torch.Tensor], beam: int) -> List[Tuple[List[int], float, List[int]]]:
        """Per sequence: (tokens, score, frame path) of the greedy or beam search; empty ones get nothing."""
        results: List[Tuple[List[int], float, List[int]]] = [([], 0.0, [0] * len(lp)) for lp in log_probs]
        todo = [i for i, lp in enumerate(log_probs) if len(lp) > 0]
        if not todo:
            return results
        lengths = torch.tensor([len(log_probs[i]) for i in todo])
        padded = torch.full((len(todo), int(lengths.max()), log_probs[todo[0]].size(1)), -math.inf)
        padded[:, :, BLANK] = 0.0
        for row, i in enumerate(todo):
            padded[row, : len(log_probs[i])] = log_probs[i]
        if self.settings.decoder == "greedy":
            tokens = greedy_search(padded, lengths)
            best = padded.max(dim=-1)
            for row, i in enumerate(todo):
                n = int(lengths[row])
                results[i] = (tokens[row], float(best.values[row, :n].sum()), best.indices[row, :n].tolist())
            return results
        hyps = [h[0] for h in prefix_beam_search(padded, lengths, beam=beam, nbest=1)]
        paths = forced_align(padded, lengths, [h.tokens for h in hyps])
        for row, i in enumerate(todo):
            results[i] = (hyps[row].tokens, hyps[row].log_prob, paths[row])
        return results

    def p2g_log_probs(self, inputs: Sequence[List[int]]) -> List[torch.Tensor]:
        out = [torch.zeros(0, self.p2g.outputs.vocab_size) for _ in inputs]
        todo = sorted((i for i, x in enumerate(inputs) if x), key=lambda i: len(inputs[i]), reverse=True)
        for batch in _batches(todo, [len(x) for x in inputs], self.settings.max_batch_tokens):
            longest = max(len(inputs[i]) for i in batch)
            ids = np.zeros((len(batch), longest), dtype=np.int64)
            lengths = np.array([len(inputs[i]) for i in batch], dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : len(inputs[i])] = inputs[i]
            log_probs, out_lens = self.p2g.run(ids, lengths)
            for row, i in enumerate(batch):
                out[i] = log_probs[row, : int(out_lens[row])]
        return out

    # ------------------------------------------------------------------ whole recordings
    def recognize(self, names: Sequence[str], samples: Sequence[np.ndarray]) -> List[Transcript]:
        feats = self.features(samples)
        s2p_lp = self.s2p_log_probs(feats)
        segments = []  # (recording, first frame, log-probs)
        for r, lp in enumerate(s2p_lp):
            for a, b in split_points(lp.argmax(dim=-1).numpy(), self.segment):
                segments.append((r, a, lp[a:b]))
        if self.settings.decoder == "lm":
            return self._recognize_lm(names, samples, segments)
        phones = self._search([lp for _, _, lp in segments], self.settings.s2p_beam)
        phone_spans = [spans(path, offset) for (_, offset, _), (_, _, path) in zip(segments, phones)]
        p2g_lp = self.p2g_log_probs([[tok for tok, _, _ in sp] for sp in phone_spans])
        words = self._search(p2g_lp, self.settings.p2g_beam)

        transcripts = [Transcript(name, "", "", [], 0.0, 0.0, len(s) / self.config.sample_rate, 0)
                       for name, s in zip(names, samples)]
        texts: Dict[int, List[str]] = {}
        phonemes: Dict[int, List[str]] = {}
        for (r, _, _), sp, (ph_tokens, ph_score, _), (w_tokens, w_score, w_path) in zip(segments, phone_spans,
                                                                                       phones, words):
            t = transcripts[r]
            t.segments += 1
            t.s2p_score += ph_score
            t.p2g_score += w_score
            phonemes.setdefault(r, []).append(self.s2p.outputs.decode(ph_tokens))
            texts.setdefault(r, []).append(" ".join(self.p2g.outputs.decode(w_tokens).split()))
            t.words.extend(self._timed_words(w_tokens, w_path, sp))
        for r, t in enumerate(transcripts):
            t.text = " ".join(x for x in texts.get(r, []) if x)
            t.phonemes = " ".join(x for x in phonemes.get(r, []) if x)
        return transcripts

    def _recognize_lm(self, names: Sequence[str], samples: Sequence[np.ndarray],
                      segments: Sequence[Tuple[int, int, torch.Tensor]]) -> List[Transcript]:
        """Each pause-cut segment decoded through the graph on its own (one LM sentence per segment)."""
        assert self.lm is not None
        transcripts = [Transcript(name, "", "", [], 0.0, 0.0, len(s) / self.config.sample_rate, 0, 0.0, 0.0)
                       for name, s in zip(names, samples)]
        phonemes: Dict[int, List[str]] = {}
        for r, offset, lp in segments:
            t = transcripts[r]
            t.segments += 1
            result = self.lm.decode(lp, offset) if len(lp) else None
            if result is None:
                if len(lp):  # the segment stays without words rather than failing the recording
                    logger.warning("%s: no path through the graph within the beam for frames %d-%d; raise --lm-beam",
                                   t.name, offset, offset + len(lp))
                continue
            t.graph_cost = (t.graph_cost or 0.0) + result.graph_cost
            t.acoustic_cost = (t.acoustic_cost or 0.0) + result.acoustic_cost
            phonemes.setdefault(r, []).append(self.s2p.outputs.decode(result.tokens))
            t.words.extend(Word(w, round(a * self.frame_seconds, 3), round((b + 1) * self.frame_seconds, 3))
                           for w, a, b in result.words)
        for r, t in enumerate(transcripts):
            t.text = " ".join(w.word for w in t.words)
            t.phonemes = " ".join(x for x in phonemes.get(r, []) if x)
        return transcripts

    def _timed_words(self, tokens: List[int], path: List[int], phone_spans: List[Span]) -> List[Word]:
        if not tokens:
            return []
        r = self.p2g.upsample
        token_spans = spans(path)
        words = []
        for group in word_groups(tokens, self.p2g.outputs):
            first, last = token_spans[group[0]], token_spans[group[-1]]
            p_first = phone_spans[min(first[1] // r, len(phone_spans) - 1)]
            p_last = phone_spans[min(last[2] // r, len(phone_spans) - 1)]
            text = " ".join(self.p2g.outputs.decode([tokens[i] for i in group]).split())
            if text:
                words.append(Word(text, round(p_first[1] * self.frame_seconds, 3),
                                  round((p_last[2] + 1) * self.frame_seconds, 3)))
        return words


def _multiple(frames: float) -> int:
    return int(frames) // SUBSAMPLING * SUBSAMPLING


def _batches(order: Sequence[int], sizes: Sequence[int], max_padded: int) -> List[List[int]]:
    """``order`` (longest first) cut into batches whose padded size (count x longest) stays under the limit."""
    batches: List[List[int]] = []
    for i in order:
        if batches and (len(batches[-1]) + 1) * sizes[batches[-1][0]] <= max_padded:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def load_recognizer(model_dir, backend: str = "torch", device: str = "cpu", num_threads: int = 0,
                    int8: bool = False, overrides: Optional[Dict[str, object]] = None,
                    fbank_backend: str = "auto") -> Recognizer:
    """The recognizer of a loaded :class:`phonasr.serve.model_dir.ModelDir`, its decoding.yaml settings updated
    by ``overrides`` (None values ignored)."""
    from phonasr.serve.networks import load_network

    values = {**model_dir.decoding, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    settings = Settings.from_mapping(values)
    s2p = load_network(model_dir, "s2p", backend, device, num_threads, int8)
    p2g = load_network(model_dir, "p2g", backend, device, num_threads, int8)
    lm = None
    if settings.decoder == "lm":
        from phonasr.serve.lm_decoder import load_lm_decoder

        lm = load_lm_decoder(model_dir, s2p.outputs.vocab_size, values)
    return Recognizer(s2p, p2g, model_dir.features, settings, fbank_backend, lm)
