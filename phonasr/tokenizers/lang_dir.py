"""Lang dirs (``data/lang_*``): ``tokens.txt`` + ``tokenizer.yaml`` naming the tokenizer type (+ ``bpe.model``)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Type, Union

import yaml

from phonasr.tokenizers.base import Tokenizer
from phonasr.tokenizers.bpe import BpeTokenizer
from phonasr.tokenizers.char import CharTokenizer
from phonasr.tokenizers.phoneme import PhonemeTokenizer
from phonasr.utils.io import atomic_write_text

CONFIG_FILE = "tokenizer.yaml"
TOKENIZER_TYPES: Dict[str, Type[Tokenizer]] = {
    cls.type_name: cls for cls in (PhonemeTokenizer, BpeTokenizer, CharTokenizer)
}


def save_tokenizer(tokenizer: Tokenizer, lang_dir: Union[str, Path]) -> None:
    """Write the tokenizer's files and ``tokenizer.yaml`` (last, so a complete yaml means a complete dir)."""
    lang_dir = Path(lang_dir)
    lang_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save(lang_dir)
    config = {"type": tokenizer.type_name, "vocab_size": tokenizer.vocab_size, **tokenizer.config()}
    atomic_write_text(lang_dir / CONFIG_FILE, yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


def load_tokenizer(lang_dir: Union[str, Path]) -> Tokenizer:
    """The tokenizer of a lang dir, as named by its ``tokenizer.yaml``."""
    lang_dir = Path(lang_dir)
    path = lang_dir / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; build the lang dir with steps/make_lang.sh")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    kind = config.get("type") if isinstance(config, dict) else None
    if kind not in TOKENIZER_TYPES:
        raise ValueError(f"{path}: 'type' must be one of {sorted(TOKENIZER_TYPES)}, got {kind!r}")
    tokenizer = TOKENIZER_TYPES[kind].load(lang_dir, config)
    if config.get("vocab_size", tokenizer.vocab_size) != tokenizer.vocab_size:
        raise ValueError(f"{path} says vocab_size {config['vocab_size']} but the files hold {tokenizer.vocab_size} "
                         "tokens; the lang dir is inconsistent, rebuild it")
    return tokenizer
