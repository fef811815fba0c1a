"""A CommonVoice-layout corpus synthesised offline with espeak-ng from text in Debian packages.

config (YAML settings) -> phonasr.text.sources + sentences (speakable text) -> speakers + plan (every clip decided from
the seed) -> render (espeak-ng + ffmpeg, resumable) -> release (CommonVoice TSVs, phonemes.tsv); layout says
where each file lives. phonasr.bin.synth_corpus and local/synth/make_corpus.sh drive it.
"""
