#!/usr/bin/env bash
# Score a decoding: error rate with kaldialign, sclite-like details, and a row in the recipe's results table.
set -euo pipefail

metric=wer
system=
test_set=
results=exp/results.tsv
help_message="Usage: $0 [options] <ref-file> <hyp-file> <out-dir>
 e.g.: $0 --metric per --system s2p_ft_10min data/lang_phone_pl/test.phones exp/s2p_ft_10min/decode_test/hyp.txt \\
         exp/s2p_ft_10min/decode_test
<ref-file>, <hyp-file>: one 'utt-id<TAB>text' per line (words; space-separated phonemes for PER).
Writes <out-dir>/errs-<test-set>-<metric>.txt (per-utterance alignments, frequent confusions, missing
hypotheses) and <out-dir>/summary-<test-set>-<metric>.txt (%WER 12.34 [ 123 / 1000, 10 ins, 20 del, 93 sub ]),
and adds or replaces the row <system> <test-set> <metric> in the results table.
A reference without a hypothesis counts as all deletions (and is listed); a hypothesis for an unknown
utterance is an error.
Options:
  --metric wer|cer|per   units: words, characters without spaces, phonemes (default: $metric)
  --system NAME          system name (default: the parent directory of <out-dir>, i.e. exp/<system>/...)
  --test-set NAME        test set name (default: <out-dir>'s name without a 'decode_' prefix)
  --results FILE         results table to update, '' for none (default: $results)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
ref=$1
hyp=$2
out_dir=$3
[ -f "$ref" ] || die "reference file $ref does not exist"
[ -f "$hyp" ] || die "hypothesis file $hyp does not exist"

opts=(--metric "$metric" --results "$results")
[ -n "$system" ] && opts+=(--system "$system")
[ -n "$test_set" ] && opts+=(--test-set "$test_set")
mkdir -p "$out_dir"
python -m phonasr.bin.score compute "${opts[@]}" "$ref" "$hyp" "$out_dir"
