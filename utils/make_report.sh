#!/usr/bin/env bash
# Write a run's RESULTS.md from exp/results.tsv: the paper's table layout with the paper's figures beside it, the
# domain-adaptation table, the controls, the LM, paired bootstrap significance tests of the headline pairs, and PNG
# plots (WER per system and decoder; JSA training curves) in RESULTS_plots/ beside it, and the results over seeds
# when utils/run_seeds.sh left <exp-dir>/../seeds/results_seeds.tsv. Cheap: redone every time.
set -euo pipefail
out=""
test_set="test"
seed=0
bootstrap=1000
jsa_dir=""
help_message="Usage: $0 [options] [<exp-dir>]
 e.g.: $0 exp        # from a recipe's output root: writes exp/RESULTS.md and exp/RESULTS_plots/
Options:
  --out FILE          the report (default: <exp-dir>/RESULTS.md; its plots go to FILE's stem + _plots/)
  --test-set NAME     the set of the paper's columns, the bars and the significance tests (default: $test_set)
  --seed N            seed of the bootstrap resampling (default: $seed)
  --bootstrap N       bootstrap resamples (default: $bootstrap)
  --jsa-dir DIR       the JSA training whose curves are plotted (default: <exp-dir>/jsa)"
. "$(dirname "${BASH_SOURCE[0]}")/log.sh"
. "$(dirname "${BASH_SOURCE[0]}")/parse_options.sh"
if [ $# -gt 1 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
exp=${1:-exp}
[ -f "$exp/results.tsv" ] || die "$exp/results.tsv does not exist: no scoring stage has run there (or wrong <exp-dir>)"
out=${out:-$exp/RESULTS.md}
log "writing $out from $exp/results.tsv (bootstrap: $bootstrap resamples, seed $seed)"
python -m phonasr.bin.make_report --exp "$exp" --out "$out" --test-set "$test_set" --seed "$seed" \
  --bootstrap "$bootstrap" ${jsa_dir:+--jsa-dir "$jsa_dir"}
