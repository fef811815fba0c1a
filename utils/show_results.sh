#!/usr/bin/env bash
# Print a recipe's results table (exp/results.tsv, written by steps/score.sh) as aligned columns.
set -euo pipefail

layout=wide
help_message="Usage: $0 [--layout wide|long] [results.tsv]
 e.g.: $0 exp/results.tsv
  --layout wide   one row per system, one column per '<test set> <metric>' (default)
  --layout long   every row of the TSV: system, test set, metric, value, errors/total, details file"

. "$(dirname "${BASH_SOURCE[0]}")/parse_options.sh"

if [ $# -gt 1 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
python -m phonasr.bin.score table --layout "$layout" "${1:-exp/results.tsv}"
