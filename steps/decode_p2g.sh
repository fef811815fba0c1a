#!/usr/bin/env bash
# S2P -> P2G decoding without an LM: the P2G reads the S2P's phoneme hypotheses (an S2P decode dir) and writes
# words, scored afterwards with steps/score.sh --metric wer. A finished decoding is skipped (.decode_p2g.done).
set -euo pipefail

beam=16
nbest=1
nbest_in=1
model_name=""
cuts=""
input_tokenizer_dir=""
output_tokenizer_dir=""
save_logprobs=false
max_tokens=20000
device=auto
help_message="Usage: $0 [options] <p2g-checkpoint|exp-dir> <s2p-decode-dir> <out-dir>
 e.g.: $0 --cuts data/manifests/pl/cuts_test.jsonl.gz exp/jsa exp/jsa/decode_test exp/jsa/decode_test_p2g
       steps/score.sh --metric wer --system jsa --test-set test exp/jsa/decode_test_p2g/ref.txt \\
         exp/jsa/decode_test_p2g/hyp.txt exp/jsa/decode_test_p2g
An exp dir means its final.pt: a P2G of the token task, or a JSA run (its model p2g). <s2p-decode-dir> is an
output of steps/decode_ctc.sh. Writes, under <out-dir>:
  hyp.txt       utt<TAB>1-best words
  ref.txt       utt<TAB>reference words: supervision.text of --cuts; without --cuts the S2P decode dir's
                ref.txt, which must hold text (decoded with --ref-field text)
  nbest.txt     utt<TAB>rank<TAB>score<TAB>words
  logprobs.pt   P2G log-posteriors per input, with --save-logprobs true
  log/decode_p2g.log, decode_p2g.{config.yaml,versions.json}
Scores: with --nbest-in 1 the P2G reads the S2P 1-best h and scores log P(y|h); with --nbest-in K it reads the
S2P's K best h_k and scores log sum_k P(h_k|x) P(y|h_k) (the S2P n-best must have >= K entries: decode_ctc.sh
--nbest K).
Options:
  --beam N                    P2G prefix beam width (default: $beam)
  --nbest N                   hypotheses per utterance in nbest.txt, <= beam (default: $nbest)
  --nbest-in K                S2P hypotheses per utterance the P2G reads (default: $nbest_in)
  --model-name NAME           model inside the checkpoint (default: p2g, else its only one)
  --cuts MANIFEST             references from this manifest's supervision.text (default: see ref.txt above)
  --input-tokenizer-dir DIR   phoneme lang dir (default: the one recorded in the checkpoint)
  --output-tokenizer-dir DIR  BPE lang dir (default: the one recorded in the checkpoint)
  --save-logprobs BOOL        keep the P2G log-posteriors for WFST / MLS decoding (default: $save_logprobs)
  --max-tokens N              padded input tokens per batch (default: $max_tokens)
  --device DEV                auto (GPU when present), cpu, cuda (default: $device)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
model=$1
s2p_dir=$2
out_dir=$3

[ -d "$model" ] && model=$model/final.pt
[ -f "$model" ] || die "checkpoint $model does not exist; train the P2G (or JSA) first"
[ -d "$s2p_dir" ] || die "S2P decode dir $s2p_dir does not exist; run steps/decode_ctc.sh first"
[ -z "$cuts" ] || [ -f "$cuts" ] || die "cut manifest $cuts does not exist"

if stage_done "$out_dir" decode_p2g; then
  log "P2G decoding of $s2p_dir already done in $out_dir; skipping"
  exit 0
fi

opts=(--beam "$beam" --nbest "$nbest" --nbest-in "$nbest_in" --save-logprobs "$save_logprobs"
      --max-tokens "$max_tokens" --device "$device")
[ -n "$model_name" ] && opts+=(--model-name "$model_name")
[ -n "$cuts" ] && opts+=(--cuts "$cuts")
[ -n "$input_tokenizer_dir" ] && opts+=(--input-tokenizer-dir "$input_tokenizer_dir")
[ -n "$output_tokenizer_dir" ] && opts+=(--output-tokenizer-dir "$output_tokenizer_dir")

mkdir -p "$out_dir/log"
log "P2G decoding of $s2p_dir with $model: beam $beam, nbest $nbest, S2P hypotheses $nbest_in"
python -m phonasr.bin.decode_p2g "${opts[@]}" "$model" "$s2p_dir" "$out_dir" 2>&1 \
  | tee "$out_dir/log/decode_p2g.log" >&2 || die "P2G decoding failed; see $out_dir/log/decode_p2g.log"

mark_done "$out_dir" decode_p2g
log "wrote $out_dir/hyp.txt ($(wc -l <"$out_dir/hyp.txt") utterances)"
