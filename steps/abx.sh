#!/usr/bin/env bash
# Machine ABX discrimination of phoneme triphones on encoder-layer features: within/any context x within/across
# speaker, DTW with an angular (or cosine) frame distance. A finished test is skipped (.abx.done).
set -euo pipefail

distance=angular
span=phone
max_triples=100
seed=0
num_threads=1
cmd=utils/run.pl
device=auto
. utils/num_threads.sh
help_message="Usage: $0 [options] <frame-labels.pt> <cuts.jsonl.gz> <out-dir> <features.pt>...
 e.g.: $0 exp/units/frame_labels_test.pt data/fbank/pl/cuts_test.jsonl.gz exp/units/abx_test \\
         exp/units/features_test/layer{0,1,2}.pt
<frame-labels.pt>: phone ids per encoder frame (0 = silence); <features.pt>: one encoder layer each, over the
same cuts and frames; <cuts>: the manifest both came from (each cut's speaker). Writes, under <out-dir>:
  abx.tsv                 layer<TAB>context<TAB>speaker<TAB>error<TAB>triples<TAB>cells, one row per layer and
                          condition (context within|any, speaker within|across); error is a fraction
  log/abx.log, abx.{config.yaml,versions.json}
Options:
  --distance angular|cosine  frame distance inside the DTW (default: $distance)
  --span phone|triphone      an item's frames: the centre phone's or the whole triphone's (default: $span)
  --max-triples N            triples per cell at most, drawn with --seed (default: $max_triples)
  --seed N                   seed of the triple draw (default: $seed)
  --num-threads N            CPU threads (default: $num_threads); $(num_threads_help)
  --cmd CMD                  job launcher, utils/run.pl interface (default: $cmd)
  --device DEV               auto (GPU when present), cpu, cuda (default: $device)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -lt 4 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
labels=$1
cuts=$2
out_dir=$3
shift 3

[ -f "$labels" ] || die "frame labels $labels do not exist; compute them first"
[ -f "$cuts" ] || die "cut manifest $cuts does not exist"
for f in "$@"; do
  [ -f "$f" ] || die "features file $f does not exist; extract the encoder layers first"
done
case $distance in angular|cosine) ;; *) die "--distance must be angular or cosine, got '$distance'" ;; esac
case $span in phone|triphone) ;; *) die "--span must be phone or triphone, got '$span'" ;; esac
[ "$max_triples" -ge 1 ] 2>/dev/null || die "--max-triples must be a positive integer, got '$max_triples'"
check_num_threads "$num_threads"

if stage_done "$out_dir" abx; then
  log "ABX test already done in $out_dir; skipping"
  exit 0
fi

thread_opts=()
[ "$num_threads" -gt 0 ] && thread_opts=(--num-threads "$num_threads")
mkdir -p "$out_dir/log"
log "ABX of $# features file(s) on the triphones of $labels: $distance distance, $span items, seed $seed"
# shellcheck disable=SC2086  # $cmd is a command line with options
if ! $cmd "${thread_opts[@]}" "$out_dir/log/abx.log" \
    python -m phonasr.bin.abx --distance "$distance" --span "$span" --max-triples "$max_triples" --seed "$seed" \
      --device "$device" --num-threads "$num_threads" "$labels" "$cuts" "$out_dir" "$@"; then
  grep '^error: ' "$out_dir/log/abx.log" >&2 || true  # a mistake of the user's, stated by the worker in one line
  die "ABX failed; see $out_dir/log/abx.log"
fi

mark_done "$out_dir" abx
log "wrote $out_dir/abx.tsv"
