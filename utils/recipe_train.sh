# shellcheck shell=bash disable=SC2154  # cuda_cmd: the recipe's cmd.sh
# Training helpers for recipes. Source it after utils/log.sh and utils/stages.sh, with the recipe's cmd.sh
# ($cuda_cmd) and path.sh sourced; run from the recipe's output root (conf/, steps/, utils/ beside each other).
# A recipe's YAMLs hold models, optimisers and schedules only; the facts of one run (language, lang dirs,
# manifests, checkpoints of earlier stages) come from the recipe as KEY=VALUE overrides, so they have one source.
#   config_sets VAR NAME [KEY=VALUE...]
#       fill the array VAR with "--set KEY=VALUE" pairs for conf/NAME.yaml: first what the overlay $overlay (a
#       YAML of per-config differences, e.g. conf/quick.yaml; empty: none) gives NAME, then the KEY=VALUEs
#   train_model [--background] [--num-threads N] NAME EXP [KEY=VALUE...]
#       steps/train.sh on conf/NAME.yaml into EXP with those overrides, and seed=$seed last when the recipe's
#       --seed is set (empty: the YAML's own seed), so one option re-draws every training's random choices;
#       --background starts it with in_background (utils/stages.sh), --num-threads is steps/train.sh's
#   manifest_list SPLIT LANG...
#       "[data/fbank/L1/cuts_SPLIT.jsonl.gz, data/fbank/L2/...]": the languages' manifests as one YAML list value

config_sets() {
  local -n _sets=$1
  local name=$2 lines line
  shift 2
  _sets=()
  if [ -n "${overlay:-}" ]; then
    lines=$(python utils/overlay_sets.py "$overlay" "$name") || die "cannot read the config overlay $overlay"
    while IFS= read -r line; do
      [ -z "$line" ] || _sets+=(--set "$line")
    done <<<"$lines"
  fi
  for line in "$@"; do
    _sets+=(--set "$line")
  done
}

train_model() {
  local launch=() threads=() name exp
  local -a sets
  while [[ ${1:-} == --* ]]; do
    case $1 in
      --background) launch=(in_background); shift ;;
      --num-threads) threads=(--num-threads "$2"); shift 2 ;;
      *) die "train_model: unknown option $1" ;;
    esac
  done
  name=$1 exp=$2
  shift 2
  config_sets sets "$name" "$@" ${seed:+"seed=$seed"}
  "${launch[@]}" steps/train.sh --cmd "$cuda_cmd" "${threads[@]}" "conf/$name.yaml" "$exp" "${sets[@]}"
}

manifest_list() {
  local split=$1 out="" lang
  shift
  for lang in "$@"; do
    out+="${out:+, }data/fbank/$lang/cuts_$split.jsonl.gz"
  done
  echo "[$out]"
}
