#!/usr/bin/env bash
# Discrete-token ASR decoding: a test set's k-means units through the token ASR (the P2G decoder, units as its
# input), words out, scored afterwards with steps/score.sh (WER and CER). A finished decoding is skipped
# (.decode_units.done).
set -euo pipefail

dedup=true
beam=16
nbest=1
model_name=""
max_tokens=20000
device=auto
help_message="Usage: $0 [options] <token-asr-checkpoint|exp-dir> <units.pt> <cuts.jsonl.gz> <out-dir>
 e.g.: $0 exp/token_asr exp/units/units_test.pt data/fbank/pl/cuts_test.jsonl.gz exp/token_asr/decode_test
       steps/score.sh --metric wer --system token_asr --test-set test exp/token_asr/decode_test/ref.txt \\
         exp/token_asr/decode_test/hyp.txt exp/token_asr/decode_test
An exp dir means its final.pt, a model of the token_ctc task over a unit lang dir (steps/make_unit_pairs.sh).
<units.pt> holds the units of every cut of <cuts>, made as the training units were (same encoder layer and
k-means). Writes, under <out-dir>:
  hyp.txt     utt<TAB>1-best words
  ref.txt     utt<TAB>supervision.text of <cuts>
  nbest.txt   utt<TAB>rank<TAB>score<TAB>words
  units/      the units as the input hypotheses the decoder read
  log/decode_units.log, decode_units.{config.yaml,versions.json}
Options:
  --dedup BOOL         merge runs of the same unit, as the training pairs did (default: $dedup)
  --beam N             prefix beam width (default: $beam)
  --nbest N            hypotheses per utterance in nbest.txt, <= beam (default: $nbest)
  --model-name NAME    model inside the checkpoint (default: its only one)
  --max-tokens N       padded input units per batch (default: $max_tokens)
  --device DEV         auto (GPU when present), cpu, cuda (default: $device)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 4 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
model=$1
units=$2
cuts=$3
out_dir=$4

[ -d "$model" ] && model=$model/final.pt
[ -f "$model" ] || die "checkpoint $model does not exist; train the token ASR first"
[ -f "$units" ] || die "units file $units does not exist; run the k-means units stage on this test set first"
[ -f "$cuts" ] || die "cut manifest $cuts does not exist"

if stage_done "$out_dir" decode_units; then
  log "token ASR decoding of $units already done in $out_dir; skipping"
  exit 0
fi

opts=(--dedup "$dedup" --beam "$beam" --nbest "$nbest" --max-tokens "$max_tokens" --device "$device")
[ -n "$model_name" ] && opts+=(--model-name "$model_name")

mkdir -p "$out_dir/log"
log "token ASR decoding of $units with $model: dedup $dedup, beam $beam, nbest $nbest"
python -m phonasr.bin.decode_units "${opts[@]}" "$model" "$units" "$cuts" "$out_dir" 2>&1 \
  | tee "$out_dir/log/decode_units.log" >&2 || die "token ASR decoding failed; see $out_dir/log/decode_units.log"

mark_done "$out_dir" decode_units
log "wrote $out_dir/hyp.txt ($(wc -l <"$out_dir/hyp.txt") utterances)"
