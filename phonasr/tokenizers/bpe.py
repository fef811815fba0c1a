"""SentencePiece BPE subwords: the P2G output and the subword baseline's targets (500 pieces in the paper).

Training uses ``<blk>`` as a user-defined symbol so it gets id 0 (the CTC blank) and ``<unk>`` id 1, no BOS/EOS,
and the identity normaliser so ``decode(encode(text)) == text`` for normalised text. A size the text cannot
support is replaced by the nearest one SentencePiece accepts, with a warning, and tokenizer.yaml records both:
a tiny corpus (the quick recipe has a few dozen sentences) gets fewer pieces, a size below the number of
characters grows to hold every character.
"""
from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Sequence

from phonasr.tokenizers.base import Tokenizer
from phonasr.tokenizers.symbol_table import BLANK, UNK, SymbolTable
from phonasr.utils.io import atomic_path

logger = logging.getLogger(__name__)

MODEL_FILE = "bpe.model"
# SentencePiece's messages when the size does not fit the text: the group is the size it would accept.
_SIZE_LIMITS = (re.compile(r"Vocabulary size too high \(\d+\)\. Please set it to a value <= (\d+)"),
                re.compile(r"Vocabulary size is smaller than required_chars\. \d+ vs (\d+)"))


class BpeTokenizer(Tokenizer):
    type_name = "bpe"

    def __init__(self, model_file: Path, requested_size: int = 0) -> None:
        self.model_file = Path(model_file)
        if not self.model_file.is_file():
            raise FileNotFoundError(f"BPE model {self.model_file} does not exist; build the lang dir first")
        import sentencepiece as spm  # here, so phoneme/char lang dirs load where sentencepiece is absent (.venv-k2)

        self.sp = spm.SentencePieceProcessor(model_file=str(self.model_file))
        super().__init__(SymbolTable([self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size())]))
        self.requested_size = requested_size or len(self.table)

    @classmethod
    def train(cls, texts: Sequence[str], vocab_size: int, out_dir: Path) -> BpeTokenizer:
        """Train on ``texts`` into ``out_dir/bpe.model``; shrinks ``vocab_size`` when the texts cannot fill it."""
        texts = [t for t in texts if t.strip()]
        if not texts:
            raise ValueError("no non-empty text to train a BPE model on")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
            corpus = Path(tmp) / "text.txt"
            corpus.write_text("\n".join(texts) + "\n", encoding="utf-8")
            size = _train_fitting(corpus, vocab_size, Path(tmp) / "bpe")
            if size != vocab_size:
                logger.warning("BPE: %d sentences need a vocabulary of %d pieces, not the %d asked for; "
                               "trained with %d", len(texts), size, vocab_size, size)
            with atomic_path(out_dir / MODEL_FILE) as target:
                (Path(tmp) / "bpe.model").replace(target)
        return cls(out_dir / MODEL_FILE, vocab_size)

    @classmethod
    def load(cls, lang_dir: Path, config: Dict[str, Any]) -> BpeTokenizer:
        return cls(lang_dir / config.get("model", MODEL_FILE), int(config.get("requested_vocab_size", 0)))

    def encode(self, text: str) -> List[int]:
        return self.sp.encode(text, out_type=int)

    def decode(self, ids: Sequence[int]) -> str:
        return self.sp.decode(self._non_blank(ids))

    def config(self) -> Dict[str, Any]:
        return {"model": self.model_file.name, "requested_vocab_size": self.requested_size}


def _train_fitting(corpus: Path, vocab_size: int, prefix: Path) -> int:
    """Train with ``vocab_size``, or with the nearest size SentencePiece accepts for this text; return the size.

    Too large: the text has fewer possible merges (tiny corpora). Too small: every character needs a piece."""
    size = vocab_size
    for _ in range(len(_SIZE_LIMITS) + 1):
        try:
            _train_sentencepiece(corpus, size, prefix)
            return size
        except RuntimeError as e:
            limits = [int(m.group(1)) for m in (p.search(str(e)) for p in _SIZE_LIMITS) if m]
            if not limits or limits[0] == size:
                raise
            size = limits[0]
    raise RuntimeError(f"SentencePiece accepted no vocabulary size near {vocab_size} for {corpus}")


def _train_sentencepiece(corpus: Path, vocab_size: int, prefix: Path) -> None:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(prefix), model_type="bpe", vocab_size=vocab_size,
        character_coverage=1.0, normalization_rule_name="identity", user_defined_symbols=[BLANK], unk_id=1,
        unk_piece=UNK, bos_id=-1, eos_id=-1, pad_id=-1, shuffle_input_sentence=False, num_threads=1,
        minloglevel=2)
