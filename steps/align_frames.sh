#!/usr/bin/env bash
# Frame-level phoneme labels of a cut manifest by CTC forced alignment with an S2P (the aligner): the targets of
# phoneme-classification fine-tuning and the truth of unit purity / PNMI. A finished alignment is skipped
# (.align_frames.done).
set -euo pipefail

margin=2
num_threads=1
cmd=utils/run.pl
model_name=""
max_frames=40000
device=auto
. utils/num_threads.sh
help_message="Usage: $0 [options] <aligner exp-dir|checkpoint.pt> <cuts.jsonl.gz> <out-dir>
 e.g.: $0 exp/s2p_ft_phone data/subset/pl/cuts_train.jsonl.gz exp/frame_labels/subset
An exp dir means its final.pt: an S2P over the target language's phone lang dir (the label ids are that lang
dir's, 0 = silence). <cuts> must carry features and the phonemes (supervision custom field 'phones'). The
aligner sees only the labels of what it was trained on plus those of <cuts>: align the 10-minute subset with the
10-minute FT model to use no more than 10 minutes of labels. Writes, under <out-dir>:
  frame_labels.pt         per cut, int64 phone ids per encoder frame (phonasr.units.store, kind frame_labels)
  phone_durations.tsv     phone<TAB>occurrences<TAB>mean frames<TAB>mean ms (silence's frames first)
  log/align_frames.log, align_frames.{config.yaml,versions.json}
Cuts too short for their phonemes are skipped and named in the log. Blank frames of the CTC path go to the
neighbouring phones, at most --margin frames each side, split at the midpoint between two phones; the frames no
phone reaches are silence (phonasr.units.frame_labels).
Options:
  --margin N              blank frames a phone may spread over on each side of its emission (default: $margin)
  --num-threads N         CPU threads (default: $num_threads); $(num_threads_help)
  --cmd CMD               job launcher, utils/run.pl interface (default: $cmd)
  --model-name NAME       model inside the checkpoint, e.g. s2p for a JSA checkpoint (default: its only one)
  --max-frames N          padded feature frames per batch (default: $max_frames)
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
[ -f "$model" ] || die "aligner checkpoint $model does not exist; train the S2P first (steps/train.sh)"
[ -f "$cuts" ] || die "cut manifest $cuts does not exist"
[[ $margin =~ ^[0-9]+$ ]] || die "--margin must be a non-negative integer, got '$margin'"
check_num_threads "$num_threads"

if stage_done "$out_dir" align_frames; then
  log "frame labels of $cuts already in $out_dir; skipping"
  exit 0
fi

opts=(--margin "$margin" --max-frames "$max_frames" --device "$device" --num-threads "$num_threads")
[ -n "$model_name" ] && opts+=(--model-name "$model_name")
thread_opts=()
[ "$num_threads" -gt 0 ] && thread_opts=(--num-threads "$num_threads")

mkdir -p "$out_dir/log"
log "aligning $cuts with $model (margin $margin frames)"
# shellcheck disable=SC2086  # $cmd is a command line with options
$cmd "${thread_opts[@]}" "$out_dir/log/align_frames.log" \
  python -m phonasr.bin.align_frames "${opts[@]}" "$model" "$cuts" "$out_dir" \
  || die "alignment failed; see $out_dir/log/align_frames.log"

mark_done "$out_dir" align_frames
log "wrote $out_dir/frame_labels.pt; $(grep -o '[0-9]* cuts labelled.*(.* ms)' "$out_dir/log/align_frames.log" | tail -1)"
