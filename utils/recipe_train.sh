# shellcheck shell=bash disable=SC2154  # cuda_cmd: the recipe's cmd.sh; fbank, text_lang, ...: the recipe's
# Training helpers for recipes. Source it after utils/log.sh and utils/stages.sh, with the recipe's cmd.sh
# ($cuda_cmd) and path.sh sourced; run from the recipe's output root (conf/, steps/, utils/ beside each other).
# A recipe's YAMLs hold models, optimisers and schedules only; the facts of one run (language, lang dirs,
# manifests, checkpoints of earlier stages) come from the recipe as KEY=VALUE overrides, so they have one source.
#   config_sets VAR NAME [KEY=VALUE...]
#       fill the array VAR with "--set KEY=VALUE" pairs for conf/NAME.yaml: first what the overlays in $overlay (YAMLs
#       of per-config differences, e.g. conf/quick.yaml, in order, a later one winning; empty: none) give NAME,
#       then the KEY=VALUEs
#   train_model [--background] [--num-threads N] NAME EXP [KEY=VALUE...]
#       steps/train.sh on conf/NAME.yaml into EXP with those overrides, and seed=$seed last when the recipe's
#       --seed is set (empty: the YAML's own seed), so one option re-draws every training's random choices;
#       --background starts it with in_background (utils/stages.sh), --num-threads is steps/train.sh's
#   manifest_list SPLIT LANG...
#       "[data/fbank/L1/cuts_SPLIT.jsonl.gz, data/fbank/L2/...]": the languages' manifests as one YAML list value
#   trained_setting EXP KEY
#       the value of KEY (a.b.c) in the config EXP was trained with (EXP/train.config.yaml, overrides applied), as
#       one line of YAML: a control reads how long JSA trained from the run, not from a YAML that may differ
#   make_spg_pairs S2P_SYSTEM S2P_MODEL PAIRS
#       SPG init's data: S2P_MODEL's 1-best of the target's train and dev sets (exp/S2P_SYSTEM/decode_{train,dev},
#       utils/recipe_decode.sh's decode_set) paired with the transcripts in data/pairs/PAIRS_{train,dev}.tsv
#   train_p2g_g2p [--init P2G_CHECKPOINT G2P_CHECKPOINT] PHONE_LANG PAIRS P2G_EXP G2P_EXP [KEY=VALUE...]
#       side by side, a P2G (PHONE_LANG -> text units, conf/p2g.yaml) and a G2P (characters -> PHONE_LANG,
#       conf/g2p.yaml) on data/pairs/PAIRS_{train,dev}.tsv, from scratch or from the two checkpoints; the KEY=VALUEs
#       go to both
# (the last two read the recipe's fbank, text_lang, char_lang and side_by_side)

config_sets() {
  local -n _sets=$1
  local name=$2 lines line file
  shift 2
  _sets=()
  for file in ${overlay:-}; do
    lines=$(python utils/overlay_sets.py "$file" "$name") || die "cannot read the config overlay $file"
    while IFS= read -r line; do
      [ -z "$line" ] || _sets+=(--set "$line")
    done <<<"$lines"
  done
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

trained_setting() {
  local config=$1/train.config.yaml
  [ -f "$config" ] || die "no $config: train $1 first"
  python -c 'import sys, yaml
node = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
for key in sys.argv[2].split("."):
    node = node[key]
print(yaml.safe_dump(node, default_flow_style=True, width=2**30).removesuffix("\n...\n").strip())' "$config" "$2" \
    || die "cannot read $2 from $config"
}

make_spg_pairs() {
  local system=$1 model=$2 pairs=$3 set
  for set in train dev; do
    decode_set "$system" "$model" "$fbank/cuts_$set.jsonl.gz" "$set" phones
    steps/make_pairs.sh "exp/$system/decode_$set" "$fbank/cuts_$set.jsonl.gz" "data/pairs/${pairs}_$set.tsv"
  done
}

train_p2g_g2p() {
  local p2g_init=() g2p_init=() pairs=() phone p2g g2p
  if [ "${1:-}" = --init ]; then
    p2g_init=("init={checkpoint: $2}")
    g2p_init=("init={checkpoint: $3}")
    shift 3
  fi
  phone=$1 p2g=$3 g2p=$4
  pairs=("data.train=data/pairs/${2}_train.tsv" "data.dev=data/pairs/${2}_dev.tsv")
  shift 4
  train_model "${side_by_side[@]}" p2g "$p2g" "input_tokenizer=$phone" "output_tokenizer=$text_lang" "${pairs[@]}" \
    "${p2g_init[@]}" "$@"
  train_model "${side_by_side[@]}" g2p "$g2p" "input_tokenizer=$char_lang" "output_tokenizer=$phone" "${pairs[@]}" \
    "${g2p_init[@]}" "$@"
  wait_background
}
