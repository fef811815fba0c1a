#!/usr/bin/env bash
# CTC prefix beam search (no LM) over a feature manifest with N parallel jobs; writes hypotheses, references,
# n-best lists and optionally the log-posteriors. A finished decoding is skipped (.decode.done).
set -euo pipefail

beam=16
nbest=1
nj=1
num_threads=1
cmd=utils/run.pl
ref_field=text
model_name=""
tokenizer_dir=""
save_logprobs=false
max_frames=40000
device=auto
. utils/num_threads.sh
help_message="Usage: $0 [options] <exp-dir|checkpoint.pt> <cuts.jsonl.gz> <out-dir>
 e.g.: $0 --nj 4 --ref-field phones exp/s2p_ft_10min data/fbank/pl/cuts_test.jsonl.gz exp/s2p_ft_10min/decode_test
An exp dir means its final.pt. <cuts> must carry features (steps/make_fbank.sh). Writes, under <out-dir>:
  hyp.txt                 utt<TAB>1-best text (phonemes, or the detokenised sentence for subword models)
  ref.txt                 utt<TAB>reference (see --ref-field)
  nbest.txt               utt<TAB>rank<TAB>log P(labels|speech)<TAB>text
  logprobs.pt             {utt: (frames, vocab) log-posteriors}, with --save-logprobs true
  log/decode.JOB.log, split<nj>/JOB/decode.{config.yaml,versions.json}
Options:
  --beam N                prefix beam width (default: $beam)
  --nbest N               hypotheses per utterance in nbest.txt, <= beam (default: $nbest)
  --nj N                  parallel jobs (default: $nj)
  --num-threads N         CPU threads per job, jobs x threads at most the cores (default: $num_threads);
                          $(num_threads_help)
  --cmd CMD               job launcher, utils/run.pl interface (default: $cmd)
  --ref-field text|phones supervision.text or supervision.custom['phones'] (default: $ref_field)
  --model-name NAME       model inside the checkpoint, e.g. s2p for a JSA checkpoint (default: its only one)
  --tokenizer-dir DIR     lang dir (default: the one recorded in the checkpoint)
  --save-logprobs BOOL    also keep the log-posteriors for WFST / MLS decoding (default: $save_logprobs)
  --max-frames N          padded feature frames per batch (default: $max_frames)
  --device DEV            auto (GPU when present), cpu, cuda (default: $device)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
model=$1
cuts=$2
out_dir=$3

[ -d "$model" ] && model=$model/final.pt
[ -f "$model" ] || die "checkpoint $model does not exist; train the model first (steps/train.sh)"
[ -f "$cuts" ] || die "cut manifest $cuts does not exist"
[ "$nj" -ge 1 ] 2>/dev/null || die "--nj must be a positive integer, got '$nj'"
check_num_threads "$num_threads"
case $ref_field in text|phones) ;; *) die "--ref-field must be text or phones, got '$ref_field'" ;; esac

if stage_done "$out_dir" decode; then
  log "decoding of $cuts already done in $out_dir; skipping"
  exit 0
fi

opts=(--beam "$beam" --nbest "$nbest" --ref-field "$ref_field" --save-logprobs "$save_logprobs"
      --max-frames "$max_frames" --device "$device" --num-threads "$num_threads")
[ -n "$model_name" ] && opts+=(--model-name "$model_name")
[ -n "$tokenizer_dir" ] && opts+=(--tokenizer-dir "$tokenizer_dir")

thread_opts=()
[ "$num_threads" -gt 0 ] && thread_opts=(--num-threads "$num_threads")
mkdir -p "$out_dir/log"
log "decoding $cuts with $model: $nj job(s), --num-threads $num_threads, beam $beam, nbest $nbest"
if [ "$nj" -eq 1 ]; then
  # One job writes the outputs itself: no shards to merge, one process start less.
  # shellcheck disable=SC2086  # $cmd is a command line with options
  $cmd "${thread_opts[@]}" "$out_dir/log/decode.1.log" \
    python -m phonasr.bin.decode_ctc decode "${opts[@]}" "$model" "$cuts" "$out_dir" \
    || die "decoding failed; see $out_dir/log/decode.1.log"
else
  split_dir=$out_dir/split$nj
  # shellcheck disable=SC2086  # $cmd is a command line with options
  $cmd "${thread_opts[@]}" JOB=1:"$nj" "$out_dir/log/decode.JOB.log" \
    python -m phonasr.bin.decode_ctc decode "${opts[@]}" --shard JOB/"$nj" "$model" "$cuts" "$split_dir/JOB" \
    || die "decoding jobs failed; see $out_dir/log/decode.*.log"
  shards=()
  for i in $(seq "$nj"); do
    shards+=("$split_dir/$i")
  done
  python -m phonasr.bin.decode_ctc merge "$cuts" "$out_dir" "${shards[@]}"
  rm -f "$split_dir"/*/logprobs.pt  # merged into $out_dir/logprobs.pt
fi

mark_done "$out_dir" decode
log "wrote $out_dir/hyp.txt ($(wc -l <"$out_dir/hyp.txt") utterances)"
