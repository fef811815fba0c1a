"""phonasr: phoneme-based crosslingual ASR toolkit (JSA-SPG)."""

__version__ = "0.1.0"
