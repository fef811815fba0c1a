#!/usr/bin/env bash
# Marginal-likelihood scoring (MLS) of a WFST n-best of the P2G route: each hypothesis y scores
# log (1/K) sum_k p(h_k|x) p(y|h_k) / q(h_k|y) + lm_weight * log P_LM(y), h_k ~ G2P. Skipped when done.
set -euo pipefail

lm_weight=0.5
num_samples=10
seed=0
nbest=64
device=auto
g2p_checkpoint=""
help_message="Usage: $0 [options] <checkpoint|exp-dir> <nbest-dir> <s2p-decode-dir> <lm.arpa> <out-dir>
 e.g.: $0 exp/jsa exp/jsa/decode_test_tlg exp/jsa/decode_test_s2p data/lm_pl/lm.arpa exp/jsa/decode_test_mls
<checkpoint> holds models p2g and g2p (a JSA final.pt), or the P2G with --g2p-checkpoint naming the G2P's; <nbest-dir> is steps/decode_wfst.sh's output on the P2G's
log-posteriors; <s2p-decode-dir> the S2P decoding of the same set with --save-logprobs true. Writes, under <out-dir>:
  hyp.txt, ref.txt, nbest.txt   re-ranked by MLS + lm_weight * LM
  mls_scores.txt                utt<TAB>rank<TAB>log p(y|x)<TAB>LM log-prob (re-rank for another lm_weight)
Options:
  --lm-weight X      weight of the LM log-probability, natural log (default: $lm_weight)
  --num-samples K    G2P samples per hypothesis (default: $num_samples)
  --seed N           sampling seed (default: $seed)
  --nbest N          hypotheses read per utterance (default: $nbest)
  --device DEV       auto (GPU when present), cpu, cuda (default: $device)
  --g2p-checkpoint F the G2P's checkpoint or exp dir when <checkpoint> holds only the P2G (default: <checkpoint>)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 5 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
model=$1
nbest_dir=$2
s2p_dir=$3
arpa=$4
out_dir=$5

[ -d "$model" ] && model=$model/final.pt
[ -f "$model" ] || die "checkpoint $model does not exist; train the model first"
[ -f "$nbest_dir/nbest.txt" ] || die "$nbest_dir/nbest.txt does not exist; run steps/decode_wfst.sh first"
[ -f "$s2p_dir/logprobs.pt" ] || die "$s2p_dir/logprobs.pt does not exist; decode the S2P with --save-logprobs true"
[ -f "$arpa" ] || die "LM $arpa does not exist; run steps/make_lm.sh"

g2p_opts=()
if [ -n "$g2p_checkpoint" ]; then
  [ -d "$g2p_checkpoint" ] && g2p_checkpoint=$g2p_checkpoint/final.pt
  [ -f "$g2p_checkpoint" ] || die "G2P checkpoint $g2p_checkpoint does not exist; train the G2P first"
  g2p_opts=(--g2p-checkpoint "$g2p_checkpoint")
fi
if stage_done "$out_dir" mls_rescore; then
  log "MLS of $nbest_dir already done in $out_dir; skipping"
  exit 0
fi

log "MLS of $nbest_dir: $num_samples samples per hypothesis, LM weight $lm_weight"
python -m phonasr.bin.mls_rescore --lm-weight "$lm_weight" --num-samples "$num_samples" --seed "$seed" \
  --nbest "$nbest" --device "$device" "${g2p_opts[@]}" "$model" "$nbest_dir" "$s2p_dir" "$arpa" "$out_dir"
mark_done "$out_dir" mls_rescore
