#!/usr/bin/env bash
# Language-domain adaptation data: the G2P's phoneme n-best for every sentence of a text-only file, as P2G
# training pairs. Unusable lines go to a rejects file with their line numbers. A finished pair file is skipped.
set -euo pipefail

lang=""
nbest=4
beam=16
model_name=""
input_tokenizer_dir=""
output_tokenizer_dir=""
rejects=""
max_tokens=20000
device=auto
help_message="Usage: $0 --lang LANG [options] <g2p-checkpoint|exp-dir> <text-file> <out.tsv>
 e.g.: $0 --lang pl exp/jsa /data/cv/pl/text_other_domain.txt data/pairs/lda_pl.tsv
An exp dir means its final.pt: a JSA run (its model g2p) or a G2P of the token task. <text-file> holds one
sentence per line, normalised like the corpus transcripts. Writes <out.tsv>, one row per hypothesis:
  lda-<line>[-<rank>]<TAB>phones<TAB>text      (the rank only with --nbest > 1)
and <out>.rejects.tsv: lines that normalise to nothing, hold foreign letters or characters the G2P's character
table lacks, and empty hypotheses (file, line, reason).
Options:
  --lang LANG                 language of the text, for normalisation (required)
  --nbest N                   phoneme hypotheses per sentence, <= beam (default: $nbest)
  --beam N                    G2P prefix beam width (default: $beam)
  --model-name NAME           model inside the checkpoint (default: g2p, else its only one)
  --input-tokenizer-dir DIR   character lang dir (default: the one recorded in the checkpoint)
  --output-tokenizer-dir DIR  phoneme lang dir (default: the one recorded in the checkpoint)
  --rejects FILE              rejects file (default: <out.tsv> with .rejects.tsv)
  --max-tokens N              padded input tokens per batch (default: $max_tokens)
  --device DEV                auto (GPU when present), cpu, cuda (default: $device)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
model=$1
text=$2
out=$3

[ -n "$lang" ] || die "--lang is required (the language of $text, for text normalisation)"
[ -d "$model" ] && model=$model/final.pt
[ -f "$model" ] || die "checkpoint $model does not exist; train the G2P (or JSA) first"
[ -f "$text" ] || die "text file $text does not exist"

out_dir=$(dirname "$out")
name=g2p_nbest.$(basename "$out")
if stage_done "$out_dir" "$name" && [ -f "$out" ]; then
  log "$out already made; skipping"
  exit 0
fi

opts=(--lang "$lang" --nbest "$nbest" --beam "$beam" --max-tokens "$max_tokens" --device "$device")
[ -n "$model_name" ] && opts+=(--model-name "$model_name")
[ -n "$input_tokenizer_dir" ] && opts+=(--input-tokenizer-dir "$input_tokenizer_dir")
[ -n "$output_tokenizer_dir" ] && opts+=(--output-tokenizer-dir "$output_tokenizer_dir")
[ -n "$rejects" ] && opts+=(--rejects "$rejects")

mkdir -p "$out_dir/log"
log "G2P $nbest-best of $text with $model"
python -m phonasr.bin.g2p_nbest "${opts[@]}" "$model" "$text" "$out" 2>&1 | tee "$out_dir/log/$name.log" >&2 \
  || die "G2P decoding of $text failed; see $out_dir/log/$name.log"

mark_done "$out_dir" "$name"
log "wrote $out ($(wc -l <"$out") pairs)"
