#!/usr/bin/env bash
# Choose the LM weight of a WFST decoding or an MLS rescoring on dev, and re-rank other sets' n-best with it: no
# weight is ever chosen on a test set. Redone every time (re-ranking is cheap).
set -euo pipefail
kind=wfst
weights="0 0.1 0.2 0.3 0.4 0.5 0.6 0.8 1.0 1.2 1.5 2.0 2.5 3.0"
metric=wer
help_message="Usage: $0 [options] <dev-decode-dir> <out-dir> [<name>=<decode-dir> ...]
 e.g.: $0 exp/jsa_lm/decode_dev exp/jsa_lm/lmwt test=exp/jsa_lm/decode_test
The decode dirs are steps/decode_wfst.sh outputs (costs.txt) or, with --kind mls, steps/mls_rescore.sh outputs
(mls_scores.txt), all of one system. Writes, under <out-dir>:
  sweep.tsv, sweep.png   weight -> dev error rate (the chosen row marked)
  weight.txt             the chosen weight
  dev/, <name>/          hyp.txt, ref.txt, nbest.txt re-ranked at that weight (score them with steps/score.sh)
Options:
  --kind wfst|mls       what the decode dirs are (default: $kind)
  --weights LIST        the grid, space-separated (default: $weights)
  --metric wer|cer|per  what the chosen weight minimises on dev (default: $metric)"
. utils/log.sh
. utils/parse_options.sh
if [ $# -lt 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
dev_dir=$1
out_dir=$2
shift 2
case $kind in
  wfst) scores=costs.txt ;;
  mls) scores=mls_scores.txt ;;
  *) die "--kind takes wfst or mls, not '$kind'" ;;
esac
for d in "$dev_dir" "${@#*=}"; do
  [ -f "$d/$scores" ] || die "$d/$scores does not exist: not a finished $kind decoding"
done
log "choosing the $kind LM weight on $dev_dir ($metric over: $weights)"
python -m phonasr.bin.tune_lm_weight --kind "$kind" --weights "$weights" --metric "$metric" "$dev_dir" "$out_dir" "$@"
log "LM weight $(cat "$out_dir/weight.txt") chosen on dev; sweep in $out_dir/sweep.tsv, plot $out_dir/sweep.png"
