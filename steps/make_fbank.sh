#!/usr/bin/env bash
# 80-dim log-mel fbank for a lhotse cut manifest, computed by N parallel jobs and stored with lhotse (lilcom).
# Resumable: a finished piece is not recomputed, a finished manifest is skipped (.fbank_<split>.done).
set -euo pipefail

nj=4
cmd=utils/run.pl
backend=auto
speed_perturb=false
help_message="Usage: $0 [options] <in-cuts.jsonl.gz> <out-dir>
 e.g.: $0 --nj 8 --cmd \"\$train_cmd\" --speed-perturb true data/manifests/pl/cuts_train.jsonl.gz data/fbank/pl
For an input cuts_<split>.jsonl.gz it writes, under <out-dir>:
  cuts_<split>.jsonl.gz          the cuts with features attached (speed-perturbed copies get ids <id>_sp0.9/1.1)
  storage_<split>/               the lilcom feature files (and the per-job pieces)
  rejects_<split>.tsv            cuts whose audio could not be read: cut id, audio path, reason
  fbank_<split>.config.yaml      backend, framing (snip_edges), settings and counts; .versions.json beside it
  log/fbank_<split>.<job>.log    one log per job
Options:
  --nj N                 number of jobs (default: $nj)
  --cmd CMD              job launcher, utils/run.pl interface (default: $cmd)
  --backend NAME         auto|kaldifeat|kaldi-native-fbank|lhotse; auto = kaldifeat if importable,
                         else kaldi-native-fbank (default: $backend)
  --speed-perturb BOOL   true: also 0.9x and 1.1x speed-perturbed copies, for training sets (default: $speed_perturb)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
in_cuts=$1
out_dir=$2

[ -f "$in_cuts" ] || die "input manifest $in_cuts does not exist"
[ "$nj" -ge 1 ] 2>/dev/null || die "--nj must be a positive integer, got '$nj'"
case $backend in
  auto|kaldifeat|kaldi-native-fbank|lhotse) ;;
  *) die "--backend must be auto, kaldifeat, kaldi-native-fbank or lhotse, not '$backend'" ;;
esac
name=$(basename "$in_cuts" .jsonl.gz)
split=${name#cuts_}
[ "$(realpath -m "$in_cuts")" != "$(realpath -m "$out_dir/cuts_$split.jsonl.gz")" ] \
  || die "<out-dir> $out_dir would overwrite the input $in_cuts; write the features to another directory"

if stage_done "$out_dir" "fbank_$split"; then
  log "fbank for $in_cuts already done ($out_dir/cuts_$split.jsonl.gz); skipping"
  exit 0
fi

work=$out_dir/storage_$split/split$nj
mkdir -p "$out_dir/log"
utils/split_manifest.sh "$in_cuts" "$nj" "$out_dir/storage_$split"  # no-op when already split

log "fbank for $in_cuts: $nj jobs, backend $backend, speed perturbation $speed_perturb"
# shellcheck disable=SC2086  # $cmd is a command line with options
$cmd JOB=1:"$nj" "$out_dir/log/fbank_$split.JOB.log" \
  python -m phonasr.bin.compute_fbank compute --backend "$backend" --speed-perturb "$speed_perturb" \
    "$work/cuts.JOB.jsonl.gz" "$work/feats.JOB" \
  || die "fbank jobs failed; see $out_dir/log/fbank_$split.*.log (finished pieces are kept for the rerun)"

pieces=()
for i in $(seq "$nj"); do
  pieces+=("$work/feats.$i")
done
python -m phonasr.bin.compute_fbank combine --out-manifest "$out_dir/cuts_$split.jsonl.gz" \
  --out-rejects "$out_dir/rejects_$split.tsv" --run-info "$out_dir/fbank_$split" "${pieces[@]}"

mark_done "$out_dir" "fbank_$split"
log "wrote $out_dir/cuts_$split.jsonl.gz"
