#!/usr/bin/env bash
# 80-dim log-mel fbank for a lhotse cut manifest, computed by N parallel jobs and stored with lhotse (lilcom).
# Resumable: a finished piece is not recomputed, a finished manifest is skipped (.fbank_<split>.done).
set -euo pipefail

nj=4
cmd=utils/run.pl
backend=auto
speed_perturb=false
help_message="Usage: $0 [options] <in-cuts.jsonl.gz>... <out-dir>
 e.g.: $0 --nj 8 --cmd \"\$train_cmd\" data/manifests/pl/cuts_{train,dev,test}.jsonl.gz data/fbank/pl
For each input cuts_<split>.jsonl.gz it writes, under <out-dir>:
  cuts_<split>.jsonl.gz          the cuts with features attached (speed-perturbed copies get ids <id>_sp0.9/1.1)
  storage_<split>/               the lilcom feature files (and the per-job pieces)
  rejects_<split>.tsv            cuts whose audio could not be read: cut id, audio path, reason
  fbank_<split>.config.yaml      backend, framing (snip_edges), settings and counts; .versions.json beside it
  log/fbank_<splits>.<job>.log   one log per job; each job does its piece of every input manifest
Options:
  --nj N                 number of jobs (default: $nj); a manifest with fewer cuts is split into fewer pieces
  --cmd CMD              job launcher, utils/run.pl interface (default: $cmd)
  --backend NAME         auto|kaldifeat|kaldi-native-fbank|lhotse; auto = kaldifeat if importable,
                         else kaldi-native-fbank (default: $backend)
  --speed-perturb BOOL   true: also 0.9x and 1.1x speed-perturbed copies, for training sets (default: $speed_perturb)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -lt 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
out_dir=${*: -1}
inputs=("${@:1:$#-1}")

[ "$nj" -ge 1 ] 2>/dev/null || die "--nj must be a positive integer, got '$nj'"
case $backend in
  auto|kaldifeat|kaldi-native-fbank|lhotse) ;;
  *) die "--backend must be auto, kaldifeat, kaldi-native-fbank or lhotse, not '$backend'" ;;
esac
mkdir -p "$out_dir/log"

# Split every unfinished manifest into min(nj, #cuts) pieces; job J gets piece J of each manifest that has one.
job_args=() splits=() groups=()
for ((j = 1; j <= nj; j++)); do job_args[j]=""; done
for in_cuts in "${inputs[@]}"; do
  [ -f "$in_cuts" ] || die "input manifest $in_cuts does not exist"
  name=$(basename "$in_cuts" .jsonl.gz)
  split=${name#cuts_}
  [ "$(realpath -m "$in_cuts")" != "$(realpath -m "$out_dir/cuts_$split.jsonl.gz")" ] \
    || die "<out-dir> $out_dir would overwrite the input $in_cuts; write the features to another directory"
  if stage_done "$out_dir" "fbank_$split"; then
    log "fbank for $in_cuts already done ($out_dir/cuts_$split.jsonl.gz); skipping"
    continue
  fi
  num_cuts=$(gzip -cd "$in_cuts" | wc -l)
  [ "$num_cuts" -ge 1 ] || die "input manifest $in_cuts holds no cuts"
  pieces=$(( num_cuts < nj ? num_cuts : nj ))
  work=$out_dir/storage_$split/split$pieces
  utils/split_manifest.sh "$in_cuts" "$pieces" "$out_dir/storage_$split"  # no-op when already split
  prefixes=""
  for ((j = 1; j <= pieces; j++)); do
    job_args[j]+=" $work/cuts.$j.jsonl.gz $work/feats.$j"
    prefixes+="${prefixes:+,}$work/feats.$j"
  done
  splits+=("$split")
  groups+=(--group "$out_dir/cuts_$split.jsonl.gz" "$out_dir/rejects_$split.tsv" "$out_dir/fbank_$split" "$prefixes")
done
[ ${#splits[@]} -gt 0 ] || exit 0

# The pieces of job J, one line per job: run.pl substitutes JOB, and the job reads its own line.
tag=$(IFS=_; echo "${splits[*]}")
list=$out_dir/.fbank_$tag.pieces
for ((j = 1; j <= nj; j++)); do echo "${job_args[j]}"; done >"$list"
busy=$(grep -c . "$list")
log "fbank for ${splits[*]} into $out_dir: $busy jobs, backend $backend, speed perturbation $speed_perturb"
# shellcheck disable=SC2086  # $cmd is a command line with options
$cmd JOB=1:"$busy" "$out_dir/log/fbank_$tag.JOB.log" \
  python -m phonasr.bin.compute_fbank compute --backend "$backend" --speed-perturb "$speed_perturb" \
    \$\(sed -n JOBp "$list"\) \
  || die "fbank jobs failed; see $out_dir/log/fbank_$tag.*.log (finished pieces are kept for the rerun)"

python -m phonasr.bin.compute_fbank combine "${groups[@]}"
for split in "${splits[@]}"; do
  mark_done "$out_dir" "fbank_$split"
done
log "wrote $(printf "$out_dir/cuts_%s.jsonl.gz " "${splits[@]}")"
