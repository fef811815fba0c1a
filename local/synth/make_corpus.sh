#!/usr/bin/env bash
# Build a synthetic CommonVoice-layout corpus with espeak-ng (stage 0 of egs/mini_pl).
#   local/synth/make_corpus.sh [--cmd utils/run.pl] [--nj 2] conf/synth.yaml corpus [--set key=value ...]
# Steps (each resumable): plan every language (sentences, speakers, splits, all from the config's seed), render
# the clips with --nj parallel jobs, then write the CommonVoice TSVs + phonemes.tsv. A finished corpus has
# <corpus>/.synth.done; a rerun after an interruption only renders the clips that are missing.
set -euo pipefail

cmd=utils/run.pl   # job launcher (utils/run.pl, utils/queue.pl, utils/slurm.pl ...)
nj=2               # parallel render jobs (each renders its share of every language)
log_dir=""         # default: exp/make_corpus/<corpus name>/log

help_message="Usage: $0 [options] <synth-config.yaml> <corpus-dir> [--set key=value ...]
Synthesise a CommonVoice-layout corpus with espeak-ng as described by <synth-config.yaml>, with the overrides
--set key=value applied to it (e.g. a recipe's quick variant: a smaller corpus, utils/overlay_sets.py).
Options:
  --cmd CMD       job launcher for the render jobs (default: $cmd)
  --nj N          parallel render jobs (default: $nj)
  --log-dir DIR   where the render jobs' logs go (default: exp/make_corpus/<corpus name>/log)"

. utils/parse_options.sh
. utils/log.sh

[ $# -ge 2 ] || { echo "$help_message" >&2; exit 1; }
config=$1
corpus=$2
shift 2
overrides=("$@")
[ -f "$config" ] || die "no corpus config $config"
[ -n "$log_dir" ] || log_dir=exp/make_corpus/$(basename "$corpus")/log

if stage_done "$corpus" synth; then
  log "corpus $corpus is complete ($corpus/.synth.done); delete that file to rebuild"
  exit 0
fi
for tool in espeak-ng ffmpeg; do
  command -v "$tool" >/dev/null || die "$tool not found: run utils/install.sh (it installs requirements/apt.txt)"
done

log "planning $corpus from $config"
python -m phonasr.bin.synth_corpus plan --config "$config" "${overrides[@]}" "$corpus"

log "rendering with $nj jobs (logs: $log_dir/render.*.log)"
$cmd JOB=1:"$nj" "$log_dir/render.JOB.log" \
  python -m phonasr.bin.synth_corpus render --config "$config" "${overrides[@]}" --job JOB --num-jobs "$nj" "$corpus" \
  || die "rendering failed: see $log_dir/render.*.log; rerun to resume"

python -m phonasr.bin.synth_corpus finalize --config "$config" "${overrides[@]}" "$corpus"
mark_done "$corpus" synth
log "corpus $corpus done"
