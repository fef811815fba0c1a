"""Offline corpus building: the synthetic CommonVoice corpus (synth/), CommonVoice preparation, rejects and the
labelled-subset choice. What training reads at run time (batches of cuts and pairs) lives in phonasr/batching/."""
