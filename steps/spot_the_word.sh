#!/usr/bin/env bash
# Spot-the-word accuracy of a unit LM: the share of pairs whose real word it scores above the pseudo-word, by the
# sequence log-probability (sWUGGY's) and by its per-unit mean. Skipped when already scored (.spot_the_word.done).
set -euo pipefail

device=auto
help_message="Usage: $0 [options] <lm-exp-dir|checkpoint.pt> <units.pt> <pairs.tsv> <out-dir>
 e.g.: $0 exp/unit_lm exp/units/units_spot_the_word.pt data/spot_the_word/pl/pairs.tsv exp/unit_lm/spot_the_word
An exp dir means its final.pt (a unit_lm training); <units.pt> holds the units of the spot-the-word cuts
(steps/make_spot_the_word.sh, then fbank and units); <pairs.tsv> is the one those cuts were made with. Writes:
  <out-dir>/spot_the_word.tsv           scoring<TAB>pairs<TAB>accuracy (% ; ties count half), rows sum and mean
  <out-dir>/spot_the_word.details.tsv   per pair: both log-probabilities, token counts, credits
  <out-dir>/log/spot_the_word.log
Options:
  --device DEV     auto (GPU when present), cpu, cuda (default: $device)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 4 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
model=$1
units=$2
pairs=$3
out_dir=$4

[ -d "$model" ] && model=$model/final.pt
[ -f "$model" ] || die "unit LM checkpoint $model does not exist; train it first (steps/train.sh)"
[ -f "$units" ] || die "units file $units does not exist"
[ -f "$pairs" ] || die "pairs file $pairs does not exist; run steps/make_spot_the_word.sh"

if stage_done "$out_dir" spot_the_word; then
  log "spot-the-word already scored in $out_dir; skipping"
  exit 0
fi

mkdir -p "$out_dir/log"
log "scoring the spot-the-word pairs of $pairs with $model"
python -m phonasr.bin.spot_the_word --device "$device" "$model" "$units" "$pairs" "$out_dir" 2>&1 \
  | tee "$out_dir/log/spot_the_word.log" >&2 \
  || die "spot-the-word scoring failed; see $out_dir/log/spot_the_word.log"

mark_done "$out_dir" spot_the_word
log "accuracy (sum / mean): $(awk -F'\t' 'NR > 1 { printf "%s%s", sep, $3; sep = " / " }' "$out_dir/spot_the_word.tsv")"
