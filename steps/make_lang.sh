#!/usr/bin/env bash
# Lang dirs for a target language: the shared phoneme inventory, per-language phoneme inventories, SentencePiece
# BPE and characters of the target's training transcripts. Skipped when done before with the same BPE size.
set -euo pipefail

bpe_size=500
strip_length=true
help_message="Usage: $0 [options] <data-dir> <lang> [\"<pretraining langs>\"]
 e.g.: $0 --bpe-size 500 data pl \"cs de es\"
Reads <data-dir>/manifests/<lang>/cuts_train.jsonl.gz (transcripts; phones are checked when present) and writes:
  <data-dir>/lang_phone/            union of the inventories of <lang> and the pretraining languages
                                    (all of phonasr/phonemes/inventories when none are given)
  <data-dir>/lang_phone_<l>/        inventory of <lang> and of each pretraining language
  <data-dir>/lang_bpe<N>_<lang>/    SentencePiece BPE (fewer pieces on a tiny corpus: see tokenizer.yaml)
  <data-dir>/lang_char_<lang>/      characters, ▁ between words
each with tokens.txt (<blk> = 0) and tokenizer.yaml.
Options:
  --bpe-size N          BPE vocabulary size (default: $bpe_size)
  --strip-length BOOL   phoneme units without length marks (ː), as Whistle; false needs inventories built with
                        them and manifests segmented the same way (default: $strip_length)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
data=$1
lang=$2
pretrain=${3:-}

[ "$bpe_size" -ge 1 ] 2>/dev/null || die "--bpe-size must be a positive integer, got '$bpe_size'"
manifest=$data/manifests/$lang/cuts_train.jsonl.gz
[ -f "$manifest" ] || die "$manifest does not exist; run the manifest stage first"

marker=make_lang_${lang}_bpe$bpe_size
[ "$strip_length" = true ] || marker+=_keep_length  # other units: not the lang dirs built before
if stage_done "$data" "$marker"; then
  log "lang dirs for $lang (BPE $bpe_size) already built; skipping (remove $data/.$marker.done to redo)"
  exit 0
fi

log "lang dirs for $lang, pretraining languages '${pretrain}', BPE size $bpe_size"
python -m phonasr.bin.make_lang --data-dir "$data" --lang "$lang" --pretrain-langs "$pretrain" \
  --bpe-size "$bpe_size" --strip-length "$strip_length"
mark_done "$data" "$marker"
