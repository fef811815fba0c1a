"""Stage workers: one module per stage, called from steps/*.sh as python -m phonasr.bin.<name>."""
