#!/usr/bin/env bash
# Pack a trained system (S2P + P2G [+ G2P]) into a self-contained model directory that `phonasr transcribe`
# reads anywhere: weights as plain tensors, lang dirs, fbank and decoding settings, a model card and model.yaml
# (a sha256 per file). Optionally export it to ONNX. A finished packing is skipped (.pack_model.done).
set -euo pipefail

language=""
g2p=""
fbank_config=""
results=""
results_systems=""
description=""
graph=""
lm_weight_file=""
onnx=false
int8=false
help_message="Usage: $0 [options] <system> <s2p CHECKPOINT[:MODEL]> <p2g CHECKPOINT[:MODEL]> <out-dir>
 e.g.: $0 --language pl --g2p exp/jsa/final.pt:g2p --results exp/results.tsv \\
         jsa_aug exp/jsa/final.pt:s2p exp/p2g_aug/final.pt exp/jsa_aug/model
       phonasr transcribe exp/jsa_aug/model audio.wav
Run from the recipe's output root: the checkpoints record their lang dirs relative to it. MODEL names one model
of a multi-model checkpoint (a JSA final.pt holds s2p, p2g and g2p). <out-dir> is replaced as a whole.
Options:
  --language CODE           target language of the model card and manifest (required)
  --g2p CHECKPOINT[:MODEL]  also pack the G2P (what MLS decoding needs)
  --fbank-config FILE       the training features' fbank_*.config.yaml (default: phonasr's fbank settings)
  --results FILE            results.tsv whose rows for --results-systems go into the model card
  --results-systems LIST    comma-separated systems (default: <system>)
  --description TEXT        a sentence about the data for the model card
  --graph DIR               also pack this graph dir over the S2P's phonemes (exp/graph_phone_g2p): --decoder lm
  --lm-weight-file FILE     with --graph, the LM weight chosen on dev (exp/jsa_phone_g2p_lm/lmwt/weight.txt)
  --onnx BOOL               also export the networks to ONNX (default: $onnx)
  --int8 BOOL               with --onnx true, also int8 quantised copies (default: $int8)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 4 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
system=$1
s2p=$2
p2g=$3
out=$4

[ -n "$language" ] || die "--language is required (the target language code, e.g. pl)"
parent=$(dirname "$out")
name=pack_model.$(basename "$out")
if stage_done "$parent" "$name" && [ -f "$out/model.yaml" ]; then
  log "$out already packed; skipping"
  exit 0
fi

opts=(--system "$system" --language "$language" --s2p "$s2p" --p2g "$p2g" --description "$description")
[ -n "$g2p" ] && opts+=(--g2p "$g2p")
[ -n "$fbank_config" ] && opts+=(--fbank-config "$fbank_config")
[ -n "$results" ] && opts+=(--results "$results")
[ -n "$results_systems" ] && opts+=(--results-systems "$results_systems")
[ -n "$graph" ] && opts+=(--graph "$graph")
[ -n "$lm_weight_file" ] && opts+=(--lm-weight-file "$lm_weight_file")
mkdir -p "$parent/log"
log "packing $system (S2P $s2p, P2G $p2g${g2p:+, G2P $g2p}${graph:+, graph $graph}) into $out"
python -m phonasr.bin.pack_model "${opts[@]}" "$out" 2>&1 | tee "$parent/log/$name.log" >&2 \
  || die "packing $out failed; see $parent/log/$name.log"
if [ "$onnx" = true ]; then
  log "exporting $out to ONNX (int8 copies: $int8)"
  python -m phonasr.bin.export_onnx --int8 "$int8" "$out" 2>&1 | tee -a "$parent/log/$name.log" >&2 \
    || die "ONNX export of $out failed; see $parent/log/$name.log"
fi
mark_done "$parent" "$name"
log "packed $out: phonasr transcribe $out AUDIO..."
