#!/usr/bin/env bash
# The spot-the-word test set (sWUGGY-like) of a synthetic corpus language: real words of its training text and
# matched pseudo-words, spoken by espeak-ng with the corpus's test voices, as a lhotse cut manifest. Skipped when
# already made (.make_spot_the_word.done).
set -euo pipefail

pairs=100
seed=1
voices=""
dictionary=""
max_changes=2
sample_rate=16000
help_message="Usage: $0 [options] <corpus-lang-dir> <out-dir>
 e.g.: $0 --pairs 100 corpus/pl data/spot_the_word/pl
Writes, under <out-dir>:
  pairs.tsv                      pair_id word pseudo word_cut pseudo_cut word_phones pseudo_phones speaker
  cuts_spot_the_word.jsonl.gz    the cuts (recording, supervision text and custom phones); fbank them with
                                 steps/make_fbank.sh <out-dir>/cuts_spot_the_word.jsonl.gz <fbank-dir>
  clips/*.mp3, log/make_spot_the_word.log, make_spot_the_word.config.yaml
Pseudo-words are one-letter spelling edits whose espeak-ng phonemes substitute 1..max-changes of the word's
(vowel for vowel, consonant for consonant), are no word of the corpus text, and use only phoneme bigrams of the
training words (phonasr/units/spot_the_word.py).
Options:
  --pairs N            number of pairs (default: $pairs)
  --seed N             seed of the word, pseudo-word and voice draws (default: $seed)
  --voices LIST        VARIANT:PITCH:RATE,... speakers (default: the corpus plan's test speakers)
  --dictionary FILE    more real words, one a line (default: the corpus text only)
  --max-changes N      phonemes a pseudo-word substitutes, at most (default: $max_changes)
  --sample-rate HZ     of the clips (default: $sample_rate)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
corpus_dir=$1
out_dir=$2

[ -f "$corpus_dir/train.tsv" ] || die "$corpus_dir/train.tsv does not exist; pass a language dir of the synthetic corpus"
[ "$pairs" -ge 1 ] 2>/dev/null || die "--pairs must be a positive integer, got '$pairs'"

if stage_done "$out_dir" make_spot_the_word; then
  log "spot-the-word pairs already made in $out_dir; skipping"
  exit 0
fi

opts=(--pairs "$pairs" --seed "$seed" --max-changes "$max_changes" --sample-rate "$sample_rate")
[ -n "$voices" ] && opts+=(--voices "$voices")
[ -n "$dictionary" ] && opts+=(--dictionary "$dictionary")
mkdir -p "$out_dir/log"
log "making $pairs spot-the-word pairs from $corpus_dir (seed $seed) in $out_dir"
python -m phonasr.bin.make_spot_the_word "${opts[@]}" "$corpus_dir" "$out_dir" 2>&1 \
  | tee "$out_dir/log/make_spot_the_word.log" >&2 \
  || die "making the spot-the-word pairs failed; see $out_dir/log/make_spot_the_word.log"

mark_done "$out_dir" make_spot_the_word
log "wrote $out_dir/pairs.tsv ($(($(wc -l <"$out_dir/pairs.tsv") - 1)) pairs) and $out_dir/cuts_spot_the_word.jsonl.gz"
