"""Discrete speech units from the S2P encoder (seeds 001 and 003): per-layer encoder features, frame-level phoneme
labels from forced alignment, ABX discrimination, k-means units with their purity, a unit LM with the spot-the-word
test, and the data of discrete-token ASR.

Stages exchange per-cut arrays through :mod:`phonasr.units.store` (one ``torch.save`` dict per file, written
atomically), so every module here can be tested on constructed arrays without a model.
"""
