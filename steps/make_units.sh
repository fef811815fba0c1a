#!/usr/bin/env bash
# K-means units of one S2P encoder layer: fit the centroids on a training manifest, then write the units (and
# optionally the layer's features) of every manifest given. Finished parts are skipped (.kmeans.done,
# .units_<set>.done); use one out dir per (checkpoint, layer, k).
set -euo pipefail

layer=2
k=500
seed=0
max_fit_frames=200000
dedup=false
save_features=false
model_name=""
max_frames=40000
num_threads=1
device=auto
cmd=utils/run.pl
. utils/num_threads.sh
help_message="Usage: $0 [options] <exp-dir|checkpoint.pt> <train-cuts> <out-dir> [<cuts>...]
 e.g.: $0 --layer 2 --k 500 exp/s2p_ft_phone data/fbank/pl/cuts_train.jsonl.gz exp/units_ft_l2_k500 \\
         data/fbank/pl/cuts_train.jsonl.gz data/fbank/pl/cuts_dev.jsonl.gz data/fbank/pl/cuts_test.jsonl.gz
An exp dir means its final.pt; the cuts must carry features (steps/make_fbank.sh). Writes, under <out-dir>:
  kmeans.pt                {centroids (k, D) float32, meta: k, layer, checkpoint, seed, frames_used, inertia}
  units_<set>.pt           per cut, the unit of every encoder frame (pairs with frame labels), for each
                           <cuts> named cuts_<set>.jsonl.gz
  units_dedup_<set>.pt     with --dedup true: runs of a repeated unit collapsed (for a unit LM)
  features_<set>.pt        with --save-features true: the layer's float16 frames (for ABX)
  log/fit.log, log/units_<set>.log, kmeans.{config.yaml,versions.json}
Options:
  --layer N               encoder layer: 0 = front end, 1..N = blocks (default: $layer)
  --k N                   number of units; lowered when there are fewer distinct frames (default: $k)
  --seed N                seed of the fitting subsample and the k-means initialisation (default: $seed)
  --max-fit-frames N      at most this many training frames are clustered (default: $max_fit_frames)
  --dedup BOOL            also write the deduplicated unit runs (default: $dedup)
  --save-features BOOL    also write the layer's frames (default: $save_features)
  --model-name NAME       model inside the checkpoint, e.g. s2p of a JSA checkpoint (default: its only one)
  --max-frames N          padded feature frames per encoder batch (default: $max_frames)
  --num-threads N         CPU threads of each job; $(num_threads_help) (default: $num_threads)
  --device DEV            auto (GPU when present), cpu, cuda (default: $device)
  --cmd CMD               job launcher, utils/run.pl interface (default: $cmd)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -lt 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
model=$1
train_cuts=$2
out_dir=$3
shift 3

[ -d "$model" ] && model=$model/final.pt
[ -f "$model" ] || die "checkpoint $model does not exist; train the model first (steps/train.sh)"
for cuts in "$train_cuts" "$@"; do
  [ -f "$cuts" ] || die "cut manifest $cuts does not exist"
done
check_num_threads "$num_threads"
for flag in "$dedup" "$save_features"; do
  case $flag in true|false) ;; *) die "--dedup and --save-features take true or false, got '$flag'" ;; esac
done

common=(--max-frames "$max_frames" --device "$device" --num-threads "$num_threads")
[ -n "$model_name" ] && common+=(--model-name "$model_name")
thread_opts=()
[ "$num_threads" -gt 0 ] && thread_opts=(--num-threads "$num_threads")
mkdir -p "$out_dir/log"

if stage_done "$out_dir" kmeans; then
  log "k-means in $out_dir already fitted; skipping"
else
  log "fitting k-means (k=$k, layer $layer, seed $seed) on $train_cuts with $model"
  # shellcheck disable=SC2086  # $cmd is a command line with options
  $cmd "${thread_opts[@]}" "$out_dir/log/fit.log" \
    python -m phonasr.bin.make_units fit "${common[@]}" --layer "$layer" --k "$k" --seed "$seed" \
      --max-fit-frames "$max_fit_frames" "$model" "$train_cuts" "$out_dir/kmeans.pt" \
    || die "k-means fitting failed; see $out_dir/log/fit.log"
  mark_done "$out_dir" kmeans
fi

for cuts in "$@"; do
  name=$(basename "$cuts")
  name=${name%.gz}
  name=${name%.jsonl}
  name=${name#cuts_}  # the set name make_units gives the files (phonasr.bin.make_units.set_name)
  if stage_done "$out_dir" "units_$name"; then
    log "units of $cuts already in $out_dir; skipping"
    continue
  fi
  log "writing the units of $cuts"
  # shellcheck disable=SC2086  # $cmd is a command line with options
  $cmd "${thread_opts[@]}" "$out_dir/log/units_$name.log" \
    python -m phonasr.bin.make_units assign "${common[@]}" --dedup "$dedup" --save-features "$save_features" \
      "$model" "$out_dir/kmeans.pt" "$out_dir" "$cuts" \
    || die "unit assignment failed; see $out_dir/log/units_$name.log"
  mark_done "$out_dir" "units_$name"
done
log "units of $# manifest(s) in $out_dir (k-means: $out_dir/kmeans.pt)"
