#!/usr/bin/env bash
# Train any phonasr model (phoneme/subword CTC, JSA, ...) with `python -m phonasr.bin.train`, on one process or
# with torch DDP over several GPUs / nodes (torchrun). Idempotent: a finished run (.train.done) is skipped, and a
# killed run resumes from <exp-dir>/last.pt when the script is run again.
set -euo pipefail

cmd=utils/run.pl
nj_gpus=1          # processes (GPUs) per node; >1 launches torchrun
nnodes=1           # nodes; >1 needs --rdzv-endpoint and a $cmd that places one job per node
rdzv_endpoint=""   # host:port of the rendezvous for multi-node training
num_threads=0      # CPU threads per process (utils/num_threads.sh)
. utils/num_threads.sh
help_message="Usage: $0 [options] <config.yaml> <exp-dir> [extra args for phonasr.bin.train, e.g. --set train.max_epochs=2]
 e.g.: $0 --cmd \"\$cuda_cmd\" --nj-gpus 4 conf/s2p_pretrain.yaml exp/s2p_pretrain
Writes into <exp-dir>: final.pt (average of the best checkpoints), best-step*.pt, last.pt (resumable state),
train.log, curves.png, tensorboard/, train.config.yaml + train.versions.json, log/train.*.log (launcher logs).
Options:
  --cmd CMD              job launcher with the utils/run.pl interface (default: $cmd)
  --nj-gpus N            processes per node, one per GPU (default: $nj_gpus)
  --nnodes N             number of nodes (default: $nnodes)
  --rdzv-endpoint H:P    rendezvous host:port for --nnodes > 1 (default: none)
  --num-threads N        CPU threads per process, e.g. 1 for each of two trainings run side by side on two
                         cores (default: $num_threads);
                         $(num_threads_help)"

. utils/log.sh
. utils/parse_options.sh

[ $# -ge 2 ] || { printf '%s\n' "$help_message" >&2; exit 1; }
config=$1
exp_dir=$2
shift 2

[ -f "$config" ] || die "config $config does not exist"
[ "$nj_gpus" -ge 1 ] 2>/dev/null || die "--nj-gpus must be a positive integer, got '$nj_gpus'"
[ "$nnodes" -ge 1 ] 2>/dev/null || die "--nnodes must be a positive integer, got '$nnodes'"
check_num_threads "$num_threads"
if stage_done "$exp_dir" train; then
  log "training in $exp_dir already finished ($exp_dir/final.pt); skipping"
  exit 0
fi
mkdir -p "$exp_dir/log"
[ -f "$exp_dir/last.pt" ] && log "resuming the interrupted run in $exp_dir from last.pt"

if [ "$nj_gpus" -eq 1 ] && [ "$nnodes" -eq 1 ]; then
  launcher=(python -m phonasr.bin.train)
elif [ "$nnodes" -eq 1 ]; then
  launcher=(torchrun --standalone --nproc_per_node "$nj_gpus" -m phonasr.bin.train)
else
  [ -n "$rdzv_endpoint" ] || die "--nnodes $nnodes needs --rdzv-endpoint host:port (a node every job can reach)"
  launcher=(torchrun --nnodes "$nnodes" --nproc_per_node "$nj_gpus" --rdzv_backend c10d
            --rdzv_endpoint "$rdzv_endpoint" --rdzv_id "$(basename "$exp_dir")" -m phonasr.bin.train)
fi

# print_worker_errors EXP_DIR NNODES: the worker states a mistake of the user's (a bad config) as one line
# "error: FILE: WHAT (FIX)"; those lines, shown here, spare the user a trip into the job logs. torchrun may prefix
# a process's lines with "[rankN]:", and every rank reports the same mistake: prefixes go, repeats are dropped.
print_worker_errors() {
  local job
  for job in $(seq "$2"); do
    sed -n -E 's/^(\[[^]]*\]: ?)?(error: )/\2/p' "$1/log/train.$job.log" 2>/dev/null
  done | awk '!seen[$0]++' >&2
}

log "training $config into $exp_dir ($nnodes node(s) x $nj_gpus process(es))"
thread_opts=()
[ "$num_threads" -gt 0 ] && thread_opts=(--num-threads "$num_threads")
# shellcheck disable=SC2086  # $cmd is a command line with options
if ! $cmd --gpu "$nj_gpus" "${thread_opts[@]}" JOB=1:"$nnodes" "$exp_dir/log/train.JOB.log" \
    "${launcher[@]}" --config "$config" --exp-dir "$exp_dir" "${thread_opts[@]}" "$@"; then
  print_worker_errors "$exp_dir" "$nnodes" || true
  die "training failed; see $exp_dir/log/train.*.log and $exp_dir/train.log (rerun to resume from last.pt)"
fi
[ -f "$exp_dir/final.pt" ] || die "training ended without $exp_dir/final.pt; see $exp_dir/train.log"
mark_done "$exp_dir" train
log "training done: $exp_dir/final.pt"
