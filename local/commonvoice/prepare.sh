#!/usr/bin/env bash
# Stage 1: lhotse manifests + cuts for one language of a CommonVoice release (real or synthetic).
#   local/commonvoice/prepare.sh [options] <corpus-dir> <lang> <out-dir>
#   e.g. local/commonvoice/prepare.sh corpus pl data/manifests/pl
# Writes <out-dir>/cuts_<split>.jsonl.gz for each of --splits (default train dev test; a synthetic release may add
# test_other, its other-domain test set) (normalised text, speakers, ground-truth phones when the
# release has phonemes.tsv), lhotse's cv-<lang>_{recordings,supervisions}_<split>.jsonl.gz, rejects.tsv,
# digits.tsv (kept transcripts with digits, left as they are) and summary.json. Bad rows are rejected with file
# and line, never fatal; an unknown TSV layout is.
# Guarded by <out-dir>/.prepare.done (lhotse's own rerun check never matches the files it writes).
set -euo pipefail

nj=2                 # threads reading/decoding audio
min_duration=0.5     # seconds; shorter clips are rejected
max_duration=20      # seconds; longer clips are rejected
check_audio=true     # decode every clip once (finds truncated mp3s; ~10 ms per clip)
kaldi_dir=""         # also export Kaldi data dirs <kaldi-dir>/<split>
strip_length=true    # drop length marks (ː) when segmenting phonemes.tsv, as Whistle; false needs inventories with them
splits="train dev test"  # the release's <split>.tsv files to prepare (CommonVoice has these three)

help_message="Usage: $0 [options] <corpus-dir> <lang> <out-dir>
Prepare <corpus-dir>/<lang> (CommonVoice layout) into lhotse manifests and cuts in <out-dir>.
Options:
  --nj N                   threads reading audio (default: $nj)
  --min-duration SECONDS   (default: $min_duration)
  --max-duration SECONDS   (default: $max_duration)
  --check-audio true|false decode every clip once to find corrupt files (default: $check_audio)
  --kaldi-dir DIR          also write Kaldi data dirs DIR/<split> (default: none)
  --strip-length true|false  merge long phonemes into short ones in the ground truth (default: $strip_length)
  --splits \"S1 S2 ...\"     the split TSVs to prepare (default: \"$splits\")"

. utils/parse_options.sh
. utils/log.sh

[ $# -eq 3 ] || { echo "$help_message" >&2; exit 1; }
corpus=$1
lang=$2
out=$3

if stage_done "$out" prepare; then
  log "$out is prepared ($out/.prepare.done); delete that file to redo it"
  exit 0
fi
[ -d "$corpus/$lang" ] || die "no $corpus/$lang: expected a CommonVoice release with a '$lang' folder"

kaldi_opt=()
[ -z "$kaldi_dir" ] || kaldi_opt=(--kaldi-dir "$kaldi_dir")
# shellcheck disable=SC2086  # one split per word
python -m phonasr.bin.prepare_commonvoice --num-jobs "$nj" --min-duration "$min_duration" \
  --max-duration "$max_duration" --check-audio "$check_audio" --strip-length "$strip_length" "${kaldi_opt[@]}" \
  "$corpus" "$lang" "$out" --splits $splits
mark_done "$out" prepare
log "prepared $lang: $(tr -d ' \n' <"$out/summary.json")"
