#!/usr/bin/env bash
# Checks a Kaldi data directory so that Kaldi tools, `lhotse kaldi import` and phonasr's steps can trust it.
# Stops at the first problem with the file, line and what to do (usually: run utils/fix_data_dir.sh).
set -euo pipefail
export LC_ALL=C

no_text=false
help_message="Usage: $0 [options] <data-dir>
Checks wav.scp, text, utt2spk and, if present, segments and spk2utt:
  every file sorted with LC_ALL=C sort, one line per key, the right number of fields;
  each speaker id a prefix of its utterance ids (so utt2spk and spk2utt sort the same way);
  the same utterances in text, utt2spk and segments (or wav.scp without segments);
  segments referring to recordings of wav.scp with 0 <= start < end; spk2utt matching utt2spk.
Options:
  --no-text true   the directory has no transcripts (e.g. test audio only)"
. "$(dirname "$0")/parse_options.sh"

if [ $# -ne 1 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
data=$1
prog=${0##*/}

fail() { echo "$prog: $*" >&2; exit 1; }

# Runs an awk check; the awk program prints one problem and exits 1, or prints nothing.
check() {
  local problem
  problem=$(awk "$@") || fail "$problem"
}

# Keys are compared as strings (a numeric-looking key would otherwise compare as a number).
check_file() {  # FILE MIN_FIELDS MAX_FIELDS (0: no maximum)
  check -v min="$2" -v max="$3" '
    function bad(msg) { printf "%s line %d: %s", FILENAME, FNR, msg; exit 1 }
    /\r/ { bad("has a carriage return (DOS line end); run dos2unix on it") }
    NF < min || (max > 0 && NF > max) { bad(sprintf("has %d fields, expected %s", NF, max == min ? min : min "+")) }
    FNR > 1 && $1 == prev { bad("key " $1 " appears twice; keys must be unique") }
    FNR > 1 && ($1 "") < (prev "") {
      bad("key " $1 " after " prev ": not sorted (LC_ALL=C); run utils/fix_data_dir.sh")
    }
    { prev = $1 }
  ' "$1"
}

# Every key of A must be a key of B (field KEY_FIELD of A, field 1 of B).
keys_within() {  # A KEY_FIELD B WHAT
  check -v field="$2" -v what="$4" '
    FNR == NR { seen[$1] = 1; next }
    !($field in seen) {
      printf "%s line %d: %s %s is not in %s; run utils/fix_data_dir.sh", FILENAME, FNR, what, $field, B; exit 1
    }
  ' B="$3" "$3" "$1"
}

[ -d "$data" ] || fail "$data is not a directory"
required=(wav.scp utt2spk)
[ "$no_text" = true ] || required+=(text)
for f in "${required[@]}"; do
  [ -s "$data/$f" ] || fail "$data/$f is missing or empty"
done

check_file "$data/wav.scp" 2 0
check_file "$data/utt2spk" 2 2
[ "$no_text" = true ] || check_file "$data/text" 1 0
[ -f "$data/segments" ] && check_file "$data/segments" 4 4
[ -f "$data/spk2utt" ] && check_file "$data/spk2utt" 2 0

check '
  index($1, $2) != 1 {
    printf "%s line %d: speaker %s is not a prefix of utterance %s; Kaldi tools need utterance ids that start " \
      "with the speaker id", FILENAME, FNR, $2, $1; exit 1
  }' "$data/utt2spk"

# The utterance list of the directory is utt2spk's; the others must have exactly the same keys.
if [ -f "$data/segments" ]; then
  audio=$data/segments
  keys_within "$data/segments" 2 "$data/wav.scp" recording
  check '
    function num(x) { return x ~ /^[0-9]+(\.[0-9]*)?$/ }
    !num($3) || !num($4) || $3 + 0 >= $4 + 0 {
      printf "%s line %d: segment %s needs 0 <= start < end, got %s %s", FILENAME, FNR, $1, $3, $4; exit 1
    }' "$data/segments"
else
  audio=$data/wav.scp
fi
others=("$audio")
[ "$no_text" = true ] || others+=("$data/text")
for f in "${others[@]}"; do
  keys_within "$data/utt2spk" 1 "$f" utterance
  keys_within "$f" 1 "$data/utt2spk" utterance
done

if ! sort -s -k2,2 "$data/utt2spk" | cmp -s - "$data/utt2spk"; then
  fail "$data/utt2spk: sorting by speaker changes the utterance order; make every utterance id start with its " \
    "speaker id and a separator (<speaker>-<rest>)"
fi
if [ -f "$data/spk2utt" ]; then
  line=$(diff <("$(dirname "$0")/utt2spk_to_spk2utt.sh" "$data/utt2spk") "$data/spk2utt" |
    awk -F'[a-z,]' '/^[0-9]/ { print $1; exit }') || true
  [ -z "$line" ] || fail "$data/spk2utt line $line: does not match utt2spk; run utils/fix_data_dir.sh to regenerate it"
fi
echo "$prog: $data is a valid data directory ($(wc -l <"$data/utt2spk") utterances)" >&2
