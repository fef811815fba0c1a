"""Text: normalisation and language codes (normalise.py) and the system's own text per language (sources.py),
shared by corpus building (data/) and phonemisation (phonemes/)."""
