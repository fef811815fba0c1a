"""Corpora and manifests: the synthetic CommonVoice corpus (synth/), CommonVoice preparation, text normalisation."""
