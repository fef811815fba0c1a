"""Decoding: the decode directory (outputs), references, S2P search over a manifest (ctc), P2G/G2P models and
their beam search (tokens), S2P -> P2G decoding (p2g), and the pairs made from decodings (pairs, g2p).

The ``phonasr.bin`` decode workers parse arguments and call one function here.
"""
