#!/usr/bin/env bash
# Choose the small phoneme-labelled training subset (~10 minutes in the paper) greedily so that it covers the
# target's phonemes, favouring those rare or absent in pretraining. Skipped when done before.
set -euo pipefail

minutes=10
count=
name=
lang=
priority=
g2p=espeak
lexicon=
strip_length=true
help_message="Usage: $0 [options] <train-cuts.jsonl.gz> <out-dir>
 e.g.: $0 --minutes 10 data/fbank/pl/cuts_train.jsonl.gz data/subset/pl
Writes <out-dir>/cuts_train[_<name>].jsonl.gz (cuts with supervision.custom[\"phones\"]), coverage[_<name>].txt,
uttids[_<name>].txt, rejects[_<name>].tsv and missing_words[_<name>].txt.
Options:
  --minutes M      audio budget in minutes (default: $minutes)
  --count N        budget in utterances instead of minutes
  --name NAME      suffix of the output files (default: none)
  --lang LANG      target language (default: supervision.language of the cuts)
  --priority \"P...\" phonemes to favour (default: the paper's list for the language, in espeak-ng spelling)
  --g2p SRC        pronunciation for cuts without manifest phones: espeak|lexicon|none (default: $g2p)
  --lexicon FILE   word<TAB>phonemes lexicon, with --g2p lexicon
  --strip-length BOOL  drop length marks (ː) as Whistle when pronouncing; false needs inventories built with
                   them (default: $strip_length)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
cuts=$1
out_dir=$2
[ -f "$cuts" ] || die "training cuts $cuts do not exist"

marker=select_subset${name:+_$name}
if stage_done "$out_dir" "$marker"; then
  log "subset already chosen in $out_dir; skipping (remove $out_dir/.$marker.done to redo)"
  exit 0
fi

opts=(--g2p "$g2p" --strip-length "$strip_length")
if [ -n "$count" ]; then opts+=(--count "$count"); else opts+=(--minutes "$minutes"); fi
[ -z "$name" ] || opts+=(--name "$name")
[ -z "$lang" ] || opts+=(--lang "$lang")
[ -z "$priority" ] || opts+=(--priority "$priority")
[ -z "$lexicon" ] || opts+=(--lexicon "$lexicon")

python -m phonasr.bin.select_subset "${opts[@]}" "$cuts" "$out_dir"
mark_done "$out_dir" "$marker"
