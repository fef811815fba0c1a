#!/usr/bin/env bash
# The encoder's per-layer features of a cut manifest, one features file per layer: what ABX measures (and what
# k-means clusters). A finished extraction is skipped (.extract_layers.done).
set -euo pipefail

layers=all
model_name=""
device=auto
help_message="Usage: $0 [options] <exp-dir|checkpoint.pt> <cuts.jsonl.gz> <out-dir>
 e.g.: $0 --layers 0-2 exp/s2p_pretrain data/fbank/pl/cuts_test.jsonl.gz exp/abx/s2p_pretrain/layers_test
An exp dir means its final.pt (a conformer: the pretrained S2P or any fine-tuning of it). Writes, under <out-dir>:
  layer<N>.pt             {cut: (frames, d_model) float16} at the encoder's 40 ms frame rate (phonasr.units.store)
  extract_layers.{config.yaml,versions.json}
Options:
  --layers all|LIST       0 = the convolutional front end, 1..N = the blocks; e.g. 0-2 or 1,3 (default: $layers)
  --model-name NAME       model inside the checkpoint (default: its only one)
  --device DEV            auto (GPU when present), cpu, cuda (default: $device)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
model=$1
cuts=$2
out_dir=$3
[ -d "$model" ] && model=$model/final.pt
[ -f "$model" ] || die "checkpoint $model does not exist; train the model first"
[ -f "$cuts" ] || die "cut manifest $cuts does not exist"

if stage_done "$out_dir" extract_layers; then
  log "layers of $cuts through $model already in $out_dir; skipping"
  exit 0
fi
mkdir -p "$out_dir/log"
log "layers $layers of $cuts through $model -> $out_dir"
python -m phonasr.bin.extract_layers --layers "$layers" ${model_name:+--model-name "$model_name"} \
  --device "$device" "$model" "$cuts" "$out_dir" 2>&1 | tee "$out_dir/log/extract_layers.log" >&2 \
  || die "layer extraction failed; see $out_dir/log/extract_layers.log"
mark_done "$out_dir" extract_layers
