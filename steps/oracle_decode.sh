#!/usr/bin/env bash
# An oracle decoding: the references of a cut manifest written as a decode dir, as if a perfect recogniser had
# decoded them. steps/decode_p2g.sh on it measures the P2G alone (the ceiling of the S2P -> P2G systems).
# A finished one is skipped (.decode.done).
set -euo pipefail

ref_field=phones
help_message="Usage: $0 [options] <cuts.jsonl.gz> <out-dir>
 e.g.: $0 data/fbank/pl/cuts_test.jsonl.gz exp/oracle_phonemes/decode_test
       steps/decode_p2g.sh --cuts data/fbank/pl/cuts_test.jsonl.gz exp/p2g_aug exp/oracle_phonemes/decode_test \\
         exp/oracle_phonemes_p2g/decode_p2g_test
Writes hyp.txt = ref.txt = nbest.txt (score 0) and decode.config.yaml under <out-dir>, like steps/decode_ctc.sh.
Options:
  --ref-field phones|text   what the hypotheses are: supervision.custom['phones'] or supervision.text
                            (default: $ref_field)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
cuts=$1
out_dir=$2
[ -f "$cuts" ] || die "cut manifest $cuts does not exist"

if stage_done "$out_dir" decode; then
  log "oracle decoding of $cuts already in $out_dir; skipping"
  exit 0
fi
mkdir -p "$out_dir/log"
python -m phonasr.bin.oracle_decode --ref-field "$ref_field" "$cuts" "$out_dir" 2>&1 \
  | tee "$out_dir/log/oracle_decode.log" >&2 || die "oracle decoding failed; see $out_dir/log/oracle_decode.log"
mark_done "$out_dir" decode
log "wrote $out_dir/hyp.txt ($(wc -l <"$out_dir/hyp.txt") utterances, the references' $ref_field)"
