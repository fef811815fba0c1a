#!/usr/bin/env bash
# Makes a Kaldi data directory consistent: sorts every file (LC_ALL=C), keeps only the utterances present in
# all per-utterance files (and whose recording is in wav.scp), drops recordings and speakers nobody uses any
# more, regenerates spk2utt, and validates the result. Nothing is dropped silently: the originals go to
# <data>/.backup/ and every dropped utterance is listed with the reason in <data>/.backup/dropped_utts.
set -euo pipefail
export LC_ALL=C

help_message="Usage: $0 <data-dir>
Files handled when present: per utterance text utt2spk segments feats.scp utt2dur utt2num_frames utt2lang;
per recording wav.scp reco2dur reco2file_and_channel; per speaker spk2gender cmvn.scp."
. "$(dirname "$0")/parse_options.sh"

if [ $# -ne 1 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
data=$1
prog=${0##*/}
utils=$(dirname "$0")
utt_files=(utt2spk text segments feats.scp utt2dur utt2num_frames utt2lang)
reco_files=(wav.scp reco2dur reco2file_and_channel)
spk_files=(spk2gender cmvn.scp)

fail() { echo "$prog: $*" >&2; exit 1; }

[ -s "$data/utt2spk" ] || fail "$data/utt2spk is missing or empty"
[ -s "$data/wav.scp" ] || fail "$data/wav.scp is missing or empty"
tmp=$(mktemp -d "$data/.fix.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Sorted copy of FILE in $tmp; identical repeated lines are merged, a key with two different lines is an
# error (there is no telling which one is right).
sort_file() {
  local f=$1 dup
  sort -u "$data/$f" >"$tmp/$f"
  dup=$(awk '$1 == prev { print FILENAME ": key " $1 " has two different lines"; exit } { prev = $1 }' "$tmp/$f")
  [ -z "$dup" ] || fail "${dup/#$tmp/$data}; keep one of them and rerun"
}

present=()  # the files rewritten here; spk2utt is regenerated from utt2spk
for f in "${utt_files[@]}" "${reco_files[@]}" "${spk_files[@]}"; do
  [ -f "$data/$f" ] || continue
  present+=("$f")
  sort_file "$f"
done

# Key lists of everything that must agree on the utterances, with segments standing in for wav.scp.
keys=()
for f in "${utt_files[@]}"; do
  [ -f "$tmp/$f" ] || continue
  if [ "$f" = segments ]; then
    awk 'FNR == NR { reco[$1] = 1; next } $2 in reco { print $1 }' "$tmp/wav.scp" "$tmp/segments" >"$tmp/keys.segments"
  else
    awk '{ print $1 }' "$tmp/$f" >"$tmp/keys.$f"
  fi
  keys+=("$tmp/keys.$f")
done
[ -f "$tmp/segments" ] || { awk '{ print $1 }' "$tmp/wav.scp" >"$tmp/keys.wav.scp"; keys+=("$tmp/keys.wav.scp"); }

# kept: utterances in every key list; dropped: the others, with the lists they are missing from.
touch "$tmp/kept"
awk -v n="${#keys[@]}" -v kept="$tmp/kept" '
  FNR == 1 { name[++i] = FILENAME; sub(/.*\/keys\./, "", name[i]) }
  { has[$1, i] = 1; if (!($1 in all)) { all[$1] = 1; order[++total] = $1 } }
  END {
    for (k = 1; k <= total; k++) {
      utt = order[k]; missing = ""
      for (j = 1; j <= n; j++) if (!((utt, j) in has)) missing = missing " " name[j]
      if (missing == "") print utt > kept; else print utt " missing from" missing
    }
  }' "${keys[@]}" | sort >"$tmp/dropped"
sort -o "$tmp/kept" "$tmp/kept"
[ -s "$tmp/kept" ] || fail "no utterance of $data is in all of its files; nothing left to keep (see $tmp/dropped)"

filter() {  # FILE KEY_LIST FIELD: keep the lines of $tmp/FILE whose FIELD is in KEY_LIST
  awk -v field="$3" 'FNR == NR { keep[$1] = 1; next } $field in keep' "$2" "$tmp/$1" >"$tmp/$1.new"
  mv "$tmp/$1.new" "$tmp/$1"
}
for f in "${utt_files[@]}"; do [ -f "$tmp/$f" ] && filter "$f" "$tmp/kept" 1; done
# Recordings: those the kept segments use, or without segments the kept utterances themselves.
if [ -f "$tmp/segments" ]; then
  awk '{ print $2 }' "$tmp/segments" | sort -u >"$tmp/recos"
else
  cp "$tmp/kept" "$tmp/recos"
fi
for f in "${reco_files[@]}"; do [ -f "$tmp/$f" ] && filter "$f" "$tmp/recos" 1; done
awk '{ print $2 }' "$tmp/utt2spk" | sort -u >"$tmp/spks"
for f in "${spk_files[@]}"; do [ -f "$tmp/$f" ] && filter "$f" "$tmp/spks" 1; done
"$utils/utt2spk_to_spk2utt.sh" "$tmp/utt2spk" >"$tmp/spk2utt"

# Install: originals to .backup/, then each new file by rename.
mkdir -p "$data/.backup"
for f in "${present[@]}" spk2utt; do [ -f "$data/$f" ] && cp "$data/$f" "$data/.backup/$f"; done
mv "$tmp/dropped" "$data/.backup/dropped_utts"
for f in "${present[@]}" spk2utt; do mv "$tmp/$f" "$data/$f"; done

num_dropped=$(wc -l <"$data/.backup/dropped_utts")
num_kept=$(wc -l <"$data/utt2spk")
if [ "$num_dropped" -gt 0 ]; then
  echo "$prog: dropped $num_dropped of $((num_dropped + num_kept)) utterances of $data" \
    "(listed with reasons in $data/.backup/dropped_utts)" >&2
else
  echo "$prog: kept all $num_kept utterances of $data" >&2
fi
validate_opts=()
[ -f "$data/text" ] || validate_opts=(--no-text true)
"$utils/validate_data_dir.sh" "${validate_opts[@]}" "$data"
