#!/usr/bin/env bash
# WFST decoding (kaldi-decoder, CPU) of the log-posteriors a decoding saved (--save-logprobs true) through an HLG
# graph (steps/make_graph.sh), with N parallel jobs; writes hypotheses, n-best lists and their graph/acoustic
# costs. A finished decoding is skipped (.decode_wfst.done).
set -euo pipefail

lm_weight=1.0
beam=16
max_active=7000
lattice=true
lattice_beam=8
max_lattice_states=10000
ref=""
nbest=64
decoder=kaldi
nj=1
cmd=utils/run.pl
help_message="Usage: $0 [options] <in-decode-dir> <graph-dir> <out-dir>
 e.g.: $0 --nj 4 --lm-weight 1.2 exp/p2g/decode_test exp/graph_bpe500_pl exp/p2g/decode_test_tlg
<in-decode-dir> holds logprobs.pt and ref.txt (decoded with --save-logprobs true by the model whose lang dir
<graph-dir> was built over). Writes, under <out-dir>:
  hyp.txt       utt<TAB>words
  ref.txt       utt<TAB>reference (copied)
  nbest.txt     utt<TAB>rank<TAB>-(lm_weight*graph + acoustic)<TAB>words
  costs.txt     utt<TAB>rank<TAB>graph cost<TAB>acoustic cost (re-rank for another LM weight without decoding)
  log/decode_wfst.JOB.log
Options:
  --lm-weight X       LM weight of the search, lm_weight*graph + acoustic (default: $lm_weight)
  --beam X            decoding beam (default: $beam)
  --max-active N      most active states per frame, 1-best decoder (default: $max_active)
  --lattice BOOL      true: n-best from lattices; false: 1-best only, faster (default: $lattice)
  --lattice-beam X    lattice pruning beam (default: $lattice_beam)
  --max-lattice-states N  a raw lattice above this size is decoded again with the lattice beam narrowed by 2,
                      so that building the n-best stays fast (default: $max_lattice_states)
  --nbest N           distinct word sequences per utterance (default: $nbest)
  --decoder NAME      kaldi (kaldi-decoder, CPU) or k2 (GPU where k2 can use one; 1-best only, so with
                      --lattice false; needs k2 in this Python: README 'k2 on a GPU') (default: $decoder)
  --ref FILE          utt<TAB>words references instead of <in-decode-dir>/ref.txt, e.g. for a phoneme model
                      decoded into words, whose decode dir's references are phonemes (default: none)
  --nj N              parallel jobs (default: $nj)
  --cmd CMD           job launcher, utils/run.pl interface (default: $cmd)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
in_dir=$1
graph=$2
out_dir=$3

[ -f "$in_dir/logprobs.pt" ] || die "$in_dir/logprobs.pt does not exist; decode with --save-logprobs true first"
[ -f "$graph/HLG.fst" ] || die "$graph/HLG.fst does not exist; build it with steps/make_graph.sh"
[ -z "$ref" ] || [ -f "$ref" ] || die "reference file $ref does not exist"
[ "$nj" -ge 1 ] 2>/dev/null || die "--nj must be a positive integer, got '$nj'"
case $decoder in
  kaldi) ;;
  k2) [ "$lattice" = false ] || die "--decoder k2 gives the 1-best only; add --lattice false (or --decoder kaldi)" ;;
  *) die "--decoder takes kaldi or k2, not '$decoder'" ;;
esac

if stage_done "$out_dir" decode_wfst; then
  log "WFST decoding of $in_dir already done in $out_dir; skipping"
  exit 0
fi

opts=(--lm-weight "$lm_weight" --beam "$beam" --max-active "$max_active" --lattice "$lattice"
      --lattice-beam "$lattice_beam" ${ref:+--ref "$ref"} --max-lattice-states "$max_lattice_states" --nbest "$nbest" --decoder "$decoder")
mkdir -p "$out_dir/log"
log "WFST decoding of $in_dir with $graph ($decoder): $nj job(s), LM weight $lm_weight, lattice $lattice, nbest $nbest"
if [ "$nj" -eq 1 ]; then
  # shellcheck disable=SC2086  # $cmd is a command line with options
  $cmd "$out_dir/log/decode_wfst.1.log" \
    python -m phonasr.bin.decode_wfst decode "${opts[@]}" "$in_dir" "$graph" "$out_dir" \
    || die "decoding failed; see $out_dir/log/decode_wfst.1.log"
else
  split_dir=$out_dir/split$nj
  # shellcheck disable=SC2086  # $cmd is a command line with options
  $cmd JOB=1:"$nj" "$out_dir/log/decode_wfst.JOB.log" \
    python -m phonasr.bin.decode_wfst decode "${opts[@]}" --shard JOB/"$nj" "$in_dir" "$graph" "$split_dir/JOB" \
    || die "decoding jobs failed; see $out_dir/log/decode_wfst.*.log"
  shards=()
  for i in $(seq "$nj"); do
    shards+=("$split_dir/$i")
  done
  python -m phonasr.bin.decode_wfst merge "$in_dir" "$out_dir" "${shards[@]}"
fi

mark_done "$out_dir" decode_wfst
log "wrote $out_dir/hyp.txt ($(wc -l <"$out_dir/hyp.txt") utterances)"
