"""Training- and decoding-time batches: feature batches of lhotse cuts (cuts.py), token pairs for P2G/G2P
(pairs.py), and the padding both use (padding.py). Offline corpus building lives in phonasr/data/."""
