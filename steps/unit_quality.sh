#!/usr/bin/env bash
# How well k-means units stand for phonemes: phone purity, cluster purity and PNMI of a units file against the
# frame labels of the same cuts (steps/align_frames.sh). A finished measurement is skipped (.unit_quality.done).
set -euo pipefail

exclude_silence=false
lang_dir=""
help_message="Usage: $0 [options] <units.pt> <frame_labels.pt> <out-dir>
 e.g.: $0 --lang-dir data/lang_phone_pl data/units/frame_ce_l2/units_test.pt \\
         data/units/frame_labels/test/frame_labels.pt exp/units/frame_ce/purity_test
<units.pt>: one unit per encoder frame (steps/make_units.sh's units_<set>.pt, not the deduplicated runs).
Writes, under <out-dir>: purity.tsv (phone_purity, cluster_purity, pnmi, frames, k, silence_excluded) and
purity_phones.tsv (per phoneme, its most frequent unit and that unit's share), log/unit_quality.log.
Options:
  --exclude-silence BOOL  leave out the frames labelled silence (default: $exclude_silence)
  --lang-dir DIR          the phone lang dir, for phoneme names in purity_phones.tsv (default: ids)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
units=$1
labels=$2
out_dir=$3
[ -f "$units" ] || die "units file $units does not exist; run steps/make_units.sh"
[ -f "$labels" ] || die "frame labels $labels do not exist; run steps/align_frames.sh"

if stage_done "$out_dir" unit_quality; then
  log "purity of $units already in $out_dir; skipping"
  exit 0
fi
opts=()
opts+=(--exclude-silence "$exclude_silence")
[ -z "$lang_dir" ] || opts+=(--lang-dir "$lang_dir")
mkdir -p "$out_dir/log"
python -m phonasr.bin.unit_quality "${opts[@]}" "$units" "$labels" "$out_dir" 2>&1 \
  | tee "$out_dir/log/unit_quality.log" >&2 || die "unit quality failed; see $out_dir/log/unit_quality.log"
mark_done "$out_dir" unit_quality
