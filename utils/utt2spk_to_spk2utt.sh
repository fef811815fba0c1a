#!/usr/bin/env bash
# Prints spk2utt ("<speaker> <utt> <utt> ...", sorted by speaker, utterances in utt2spk order) from utt2spk.
#   utils/utt2spk_to_spk2utt.sh data/train/utt2spk > data/train/spk2utt
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "Usage: $0 <utt2spk>" >&2
  exit 1
fi
LC_ALL=C sort -s -k2,2 "$1" |
  awk '$2 != spk { if (NR > 1) print line; spk = $2; line = $2 } { line = line " " $1 } END { if (NR) print line }'
