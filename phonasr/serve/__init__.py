"""Using a trained system outside its recipe: the self-contained model directory, transcription of audio files
(``phonasr transcribe``) and ONNX export with an onnxruntime backend.

- :mod:`~phonasr.serve.model_dir`: the directory's manifest (``model.yaml``, a sha256 per file) and its loading;
- :mod:`~phonasr.serve.pack`: packing a recipe's S2P + P2G (+ G2P) into one;
- :mod:`~phonasr.serve.audio`, :mod:`~phonasr.serve.inputs`: audio files of any rate and channel count, lists;
- :mod:`~phonasr.serve.networks`: the networks behind one call, run by torch or onnxruntime;
- :mod:`~phonasr.serve.recognizer`: audio -> phonemes -> words with times (chunked for long audio);
- :mod:`~phonasr.serve.transcribe`, :mod:`~phonasr.serve.formats`: the batch driver and its text/json/ctm output;
- :mod:`~phonasr.serve.onnx_export`: ONNX export and int8 dynamic quantisation.
"""
