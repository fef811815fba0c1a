#!/usr/bin/env bash
# Word n-gram LM (KenLM lmplz, modified Kneser-Ney) for WFST decoding and MLS rescoring, with the perplexity and
# OOV rate of dev/test texts. Skipped when done before.
set -euo pipefail

order=4
memory=10%
eval_texts=""
results=""
system=lm
help_message="Usage: $0 [options] <out-dir> <text> [<text> ...]
 e.g.: $0 --eval-texts \"dev=data/text/pl/dev.txt test=data/text/pl/test.txt\" data/lm_pl data/text/pl/train.txt
Each <text> holds one normalised sentence per line (training transcripts, domain text). Writes, under <out-dir>:
  lm.arpa           the n-gram LM
  perplexity.tsv    set, sentences, words, oov_words, oov_rate, perplexity of each --eval-texts entry
  make_lm.config.yaml / make_lm.versions.json
Options:
  --order N           n-gram order (default: $order)
  --memory SIZE       lmplz sorting memory, e.g. 10% or 2G (default: $memory)
  --eval-texts LIST   space-separated NAME=TEXT pairs to score (default: none)
  --results FILE      also add their PPL and OOV rows to this results table, e.g. exp/results.tsv (default: none)
  --system NAME       the system name of those rows, one per LM of a recipe (default: $system)
Needs lmplz: bash utils/install.sh --kenlm true."

. utils/log.sh
. utils/parse_options.sh

if [ $# -lt 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
out_dir=$1
shift
[ "$order" -ge 1 ] 2>/dev/null || die "--order must be a positive integer, got '$order'"
for text in "$@"; do
  [ -f "$text" ] || die "LM training text $text does not exist"
done

if stage_done "$out_dir" make_lm; then
  log "LM in $out_dir already built; skipping (remove $out_dir/.make_lm.done to redo)"
  exit 0
fi

eval_opts=()
[ -z "$results" ] || eval_opts+=(--results "$results" --system "$system")
for pair in $eval_texts; do
  eval_opts+=(--eval "$pair")
done
log "training a $order-gram LM on $* into $out_dir"
python -m phonasr.bin.make_lm --order "$order" --memory "$memory" "${eval_opts[@]}" "$out_dir" "$@"
mark_done "$out_dir" make_lm
