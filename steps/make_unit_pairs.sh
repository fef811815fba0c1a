#!/usr/bin/env bash
# Pair k-means unit sequences with the true text: the TSV pair files the discrete-token ASR trains on (seed 003),
# and the unit lang dir (u0..u{k-1}) it reads. Cuts that cannot train go to a rejects file. A finished pair file
# is skipped.
set -euo pipefail

dedup=true
lang_dir=""
target_lang_dir=""
upsample=1
rejects=""
help_message="Usage: $0 [options] <units.pt> <cuts.jsonl.gz> <out.tsv>
 e.g.: $0 --lang-dir data/lang_units500 --target-lang-dir data/lang_char_pl \\
         exp/units/units_train.pt data/fbank/pl/cuts_train.jsonl.gz data/units_pairs/train.tsv
<units.pt> is a units file of the units stages (unit ids per encoder frame per cut, its k in the meta); <cuts>
the manifest the units were computed from, whose supervision.text is the output. Writes <out.tsv>, one row per cut:
  utt_id<TAB>u3 u17 ...<TAB>text
and <out>.rejects.tsv: cuts without units, with empty text, and (with --target-lang-dir) cuts whose units are
too few for CTC to emit their text. The log gives the units per character that the model's upsample must exceed.
Options:
  --dedup BOOL             merge runs of the same unit; train and test must agree (default: $dedup)
  --lang-dir DIR           write (or check) the unit lang dir of the units' k there: the token ASR's
                           input_tokenizer (default: none)
  --target-lang-dir DIR    output lang dir: reject cuts with too few units for CTC against it (default: no check)
  --upsample R             the token ASR's model.upsample, for that check (default: $upsample)
  --rejects FILE           rejects file (default: <out.tsv> with .rejects.tsv)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
units=$1
cuts=$2
out=$3

[ -f "$units" ] || die "units file $units does not exist; run the k-means units stage first"
[ -f "$cuts" ] || die "cut manifest $cuts does not exist"
[ -z "$target_lang_dir" ] || [ -d "$target_lang_dir" ] || die "target lang dir $target_lang_dir does not exist"

out_dir=$(dirname "$out")
name=make_unit_pairs.$(basename "$out")
if stage_done "$out_dir" "$name" && [ -f "$out" ]; then
  log "$out already made; skipping"
  exit 0
fi

opts=(--dedup "$dedup" --upsample "$upsample")
[ -n "$lang_dir" ] && opts+=(--lang-dir "$lang_dir")
[ -n "$target_lang_dir" ] && opts+=(--target-lang-dir "$target_lang_dir")
[ -n "$rejects" ] && opts+=(--rejects "$rejects")
mkdir -p "$out_dir/log"
log "pairing the units of $units (dedup $dedup) with the text of $cuts"
python -m phonasr.bin.make_unit_pairs "${opts[@]}" "$units" "$cuts" "$out" 2>&1 \
  | tee "$out_dir/log/$name.log" >&2 || die "making $out failed; see $out_dir/log/$name.log"

mark_done "$out_dir" "$name"
log "wrote $out ($(wc -l <"$out") pairs)"
