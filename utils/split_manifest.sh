#!/usr/bin/env bash
# Splits a lhotse manifest into N pieces <dir>/split<N>/cuts.<i>.jsonl.gz (i = 1..N) for `$cmd JOB=1:N`.
# Pieces hold consecutive cuts, every cut in exactly one piece; written atomically; a rerun on an unchanged
# manifest does nothing. Run from a recipe dir after `. ./path.sh`.
set -euo pipefail

help_message="Usage: $0 <manifest.jsonl.gz> <num-pieces> <dir>
Writes <dir>/split<num-pieces>/cuts.1.jsonl.gz .. cuts.<num-pieces>.jsonl.gz, e.g.
  utils/split_manifest.sh data/fbank/pl/cuts_dev.jsonl.gz 4 exp/decode_dev
  \$decode_cmd JOB=1:4 exp/decode_dev/log/decode.JOB.log python -m phonasr.bin.decode \\
    --cuts exp/decode_dev/split4/cuts.JOB.jsonl.gz ..."
. "$(dirname "$0")/parse_options.sh"

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
manifest=$1
num_pieces=$2
dir=$3
case $num_pieces in
  ''|*[!0-9]*|0) echo "$0: <num-pieces> must be a positive whole number, not '$num_pieces'" >&2; exit 1 ;;
esac
python -m phonasr.bin.split_manifest "$manifest" "$num_pieces" "$dir/split$num_pieces"
