#!/usr/bin/env bash
# Pair S2P hypotheses with the true text: the TSV pair files the P2G and G2P train on (SPG init, P2G
# augmentation). Cuts without a usable hypothesis go to a rejects file. A finished pair file is skipped.
set -euo pipefail

nbest=1
rejects=""
help_message="Usage: $0 [options] <s2p-decode-dir> <cuts.jsonl.gz> <out.tsv>
 e.g.: $0 exp/s2p_ft_10min/decode_train data/manifests/pl/cuts_train.jsonl.gz data/pairs/spg_train.tsv
       $0 --nbest 8 exp/jsa/decode_train_nbest data/manifests/pl/cuts_train.jsonl.gz data/pairs/aug_train.tsv
<s2p-decode-dir> is an output of steps/decode_ctc.sh (hyp.txt; nbest.txt decoded with --nbest >= N for N > 1);
<cuts> the manifest it decoded, whose supervision.text is the true text. Writes <out.tsv>, one row per pair:
  utt_id<TAB>phones<TAB>text          with --nbest 1 (the 1-best of hyp.txt)
  utt_id-rank<TAB>phones<TAB>text     with --nbest N > 1 (up to N hypotheses of nbest.txt)
and <out>.rejects.tsv: cuts the decoding missed, cuts with empty text, empty hypotheses (file, line, reason).
Options:
  --nbest N        S2P hypotheses per utterance (default: $nbest)
  --rejects FILE   rejects file (default: <out.tsv> with .rejects.tsv)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
decode_dir=$1
cuts=$2
out=$3

[ -d "$decode_dir" ] || die "S2P decode dir $decode_dir does not exist; run steps/decode_ctc.sh first"
[ -f "$cuts" ] || die "cut manifest $cuts does not exist"
[ "$nbest" -ge 1 ] 2>/dev/null || die "--nbest must be a positive integer, got '$nbest'"

out_dir=$(dirname "$out")
name=make_pairs.$(basename "$out")
if stage_done "$out_dir" "$name" && [ -f "$out" ]; then
  log "$out already made; skipping"
  exit 0
fi

opts=(--nbest "$nbest")
[ -n "$rejects" ] && opts+=(--rejects "$rejects")
mkdir -p "$out_dir/log"
log "pairing the S2P hypotheses of $decode_dir (nbest $nbest) with the text of $cuts"
python -m phonasr.bin.make_pairs "${opts[@]}" "$decode_dir" "$cuts" "$out" 2>&1 | tee "$out_dir/log/$name.log" >&2 \
  || die "making $out failed; see $out_dir/log/$name.log"

mark_done "$out_dir" "$name"
log "wrote $out ($(wc -l <"$out") pairs)"
