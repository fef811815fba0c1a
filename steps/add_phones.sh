#!/usr/bin/env bash
# Phoneme labels for cuts that have none (real CommonVoice): espeak-ng or a lexicon pronounces each sentence.
set -euo pipefail

g2p=espeak
lexicon=""
strip_length=true
help_message="Usage: $0 [options] <in-cuts.jsonl.gz> <out-cuts.jsonl.gz>
 e.g.: $0 --g2p lexicon --lexicon data/local/lexicon_pl.txt data/manifests/pl/cuts_train.jsonl.gz \\
         data/manifests/pl/cuts_train_phones.jsonl.gz
Writes <out-cuts> with supervision.custom['phones'], <out>.rejects.tsv (cuts that could not be pronounced, with
the reason) and <out>.missing_words.txt. Skipped when <out-cuts> exists and is newer than <in-cuts>.
Options:
  --g2p espeak|lexicon   pronunciation source (default: $g2p)
  --lexicon FILE         word<TAB>phonemes lexicon, for --g2p lexicon
  --strip-length BOOL    drop length marks (ː) as Whistle; false needs inventories built with them
                         (python -m phonasr.phonemes.build_inventory --strip-length false) (default: $strip_length)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
in_cuts=$1
out_cuts=$2
[ -f "$in_cuts" ] || die "input manifest $in_cuts does not exist"
if [ -f "$out_cuts" ] && [ "$out_cuts" -nt "$in_cuts" ]; then
  log "$out_cuts is up to date; skipping"
  exit 0
fi
opts=(--g2p "$g2p" --strip-length "$strip_length")
[ -n "$lexicon" ] && opts+=(--lexicon "$lexicon")
python -m phonasr.bin.add_phones "${opts[@]}" "$in_cuts" "$out_cuts"
