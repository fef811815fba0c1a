"""Token tables for CTC targets and inputs: phonemes, SentencePiece BPE subwords and characters (blank id 0)."""
from __future__ import annotations

from phonasr.tokenizers.base import BLANK_ID, Tokenizer, UnknownSymbolError
from phonasr.tokenizers.bpe import BpeTokenizer
from phonasr.tokenizers.char import WORD_BOUNDARY, CharTokenizer
from phonasr.tokenizers.lang_dir import load_tokenizer, save_tokenizer
from phonasr.tokenizers.phoneme import PhonemeTokenizer
from phonasr.tokenizers.symbol_table import SymbolTable

__all__ = [
    "BLANK_ID", "WORD_BOUNDARY", "BpeTokenizer", "CharTokenizer", "PhonemeTokenizer", "SymbolTable", "Tokenizer",
    "UnknownSymbolError", "load_tokenizer", "save_tokenizer",
]
