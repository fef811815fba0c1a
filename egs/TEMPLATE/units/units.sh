#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/../../..
# shellcheck disable=SC2154  # target_lang, kmeans_k, ...: the recipe's conf/recipe.conf; cuda_cmd: its cmd.sh
# shellcheck disable=SC2034  # help_message, overlay: read by the sourced utils/ (parse_options, recipe_train.sh)
# Discrete speech units from the S2P encoder, as numbered stages: phoneme-classification fine-tuning, ABX, k-means
# units, a unit LM with a spot-the-word test (seed 001, arXiv 2410.00025) and discrete-token ASR with two-step
# training (seed 003). Like jsa_spg.sh it is no recipe of its own: a recipe's run.sh links here, and stages 0-6
# (corpus, manifests, fbank, lang dirs, the ~10-minute labelled subset, multilingual S2P pretraining, the 10-minute
# phoneme CTC fine-tuning) are the recipe's JSA-SPG pipeline's (its jsa_spg.sh, a link to
# ../TEMPLATE/jsa_spg/jsa_spg.sh), run with the same conf/: a units recipe and a JSA-SPG recipe on the same corpus
# share those stages' code and settings.
#
#   bash run.sh                          # everything (egs/mini_units; in egs/commonvoice_pl: bash units.sh)
#   bash run.sh --stage 7                # the units stages on top of finished stages 0-6
#   bash run.sh --quick true             # the quick variant, outputs under quick/
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$recipe_dir"
# Stages 0-6 are the recipe's JSA-SPG pipeline: jsa_spg.sh beside a units recipe's run.sh (egs/mini_units), or the
# run.sh of a JSA-SPG recipe that links units.sh beside it (egs/commonvoice_pl/units.sh).
shared_pipeline=./jsa_spg.sh
[ -e "$shared_pipeline" ] || shared_pipeline=./run.sh
if [ ! -f conf/recipe.conf ] || [ "$(basename "$(readlink -f "$shared_pipeline")")" != jsa_spg.sh ]; then
  echo "$0: run from a recipe: a link to this file beside conf/recipe.conf and a link to the JSA-SPG pipeline" \
    "(jsa_spg.sh, or the recipe's run.sh)" >&2
  exit 1
fi

stage=0
stop_stage=100
quick=false
dir=""
corpus_dir=""
nj=2
seed=""

# Defaults of the units settings conf/recipe.conf may change
unit_encoders="s2p_pretrain s2p_ft_phone frame_ce frame_ce_1h"  # encoders measured by ABX and clustered
unit_layer=2          # the layer k-means clusters (the mini's 2-block S2P: 0 front end, 1, 2)
kmeans_k=500          # units per k-means model
kmeans_max_frames=200000  # frames that k-means is fitted on, drawn with the seed from the training set
dedup_units=true      # token ASR and unit LM read runs of a repeated unit as one unit (ABX/purity read frames)
frame_ce_1h_epochs=4  # the whole-training-set phoneme classification: ~6x the subset, so 4 epochs make ~2.4x
#                       the updates of the subset's 10 (conf/frame_ce.yaml)
abx_set="test"        # the set ABX, purity and spot-the-word measure
lm_encoders="s2p_pretrain frame_ce"       # unit LMs: pretrained vs phoneme-classification fine-tuned units
spot_pairs=200        # spot-the-word pairs (word, pseudo-word), spoken by the abx_set's voices
token_layers="1 2"    # two-step token ASR: a model per layer of the step-1 encoder (the per-layer choice)
. ./conf/recipe.conf

help_message="Usage: $0 [options]
Discrete units from the S2P encoder for '$target_lang'. Stages:
  0-6 the JSA-SPG recipe's (./jsa_spg.sh): corpus, manifests, fbank, lang dirs, ~10-min labelled subset,
      multilingual S2P pretraining (exp/s2p_pretrain), 10-min phoneme CTC fine-tuning (exp/s2p_ft_phone)
  7  frame labels: Viterbi forced alignment by exp/s2p_ft_phone of the subset, train, dev and $abx_set
  8  phoneme-classification fine-tuning (frame CE, masked input) of exp/s2p_pretrain: on the ~10-minute subset
     (exp/frame_ce) and on the whole training set (exp/frame_ce_1h, the seed's 1 h sweep point)
  9  ABX per layer of each of $unit_encoders on $abx_set (triphone, within/any context, within/across speaker)
  10 k-means units (k=$kmeans_k) of layer $unit_layer of each encoder; phone purity, cluster purity, PNMI
  11 unit LMs (LSTM; embeddings random or from the centroids) of $lm_encoders units; spot-the-word accuracy
  12 discrete-token ASR: units of the pretrained encoder (one step), of exp/s2p_ft_phone per layer $token_layers
     (two steps), and the fbank baseline; WER/CER on $abx_set
  13 exp/RESULTS_units.md: every table, with the seeds' own figures beside
Options:
  --stage N --stop-stage N   run stages N..M (default $stage..$stop_stage)
  --quick <true|false>       the quick variant (conf/quick.conf), outputs under quick/ (default $quick)
  --dir DIR                  output root for data/ and exp/ (default: this dir, or quick/)
  --corpus-dir DIR           CommonVoice-layout corpus (default from conf/recipe.conf)
  --nj N                     parallel jobs, i.e. the CPU cores to use (default $nj)
  --seed N                   the seed of every training, of k-means and of the ABX/spot-the-word draws"

. ./cmd.sh
. utils/parse_options.sh
. utils/log.sh
[ $# -eq 0 ] || die "unexpected arguments: $*"
[ -z "$seed" ] || [[ $seed =~ ^[0-9]+$ ]] || die "--seed takes a whole number, got '$seed'"
. utils/stages.sh
. utils/recipe_train.sh
. utils/recipe_decode.sh
shared_opts=(--quick "$quick" --nj "$nj" ${seed:+--seed "$seed"} ${dir:+--dir "$dir"} \
  ${corpus_dir:+--corpus-dir "$corpus_dir"})
if [ "$quick" = true ]; then
  [ -f conf/quick.conf ] || die "this recipe has no quick variant (no conf/quick.conf)"
  . ./conf/quick.conf
  [ -n "$dir" ] || dir=quick
fi
if [ "$stage" -le 6 ]; then  # stages 0-6 are the JSA-SPG pipeline's, run by it
  "$shared_pipeline" --stage "$stage" --stop-stage "$(( stop_stage < 6 ? stop_stage : 6 ))" "${shared_opts[@]}"
fi
. ./path.sh
if [ -n "$dir" ] && [ "$dir" != . ]; then
  mkdir -p "$dir"
  for f in conf steps utils local path.sh cmd.sh; do ln -sfn "$recipe_dir/$f" "$dir/$f"; done
  cd "$dir"
fi

[ -n "$corpus_dir" ] || corpus_dir=corpus
phone_lang=data/lang_phone_$target_lang
text_lang=data/lang_${text_units}_$target_lang
[ "$text_units" = bpe ] && text_lang=data/lang_bpe${bpe_size}_$target_lang
fbank=data/fbank/$target_lang
labelled=data/subset/$target_lang/cuts_train.jsonl.gz
labels=data/units/frame_labels   # <split>.pt: a phone per encoder frame (stage 7)
units=data/units                 # <encoder>/kmeans.pt, <encoder>/<split>.pt (stage 10)
# Two trainings that do not depend on each other run side by side, each with half the cores.
side_by_side=(--background --num-threads "$(( nj / 2 > 1 ? nj / 2 : 1 ))")
checkpoint_of() {  # the encoder checkpoint of a unit encoder's name
  case $1 in
    s2p_pretrain) echo "${pretrained_s2p:-exp/s2p_pretrain/final.pt}" ;;
    *) echo "exp/$1/final.pt" ;;
  esac
}

log "units recipe $recipe_dir, target '$target_lang', output root $(pwd), stages $stage..$stop_stage," \
  "seed ${seed:-of each config}"

# unit_dir ENCODER LAYER: where the k-means model and the units of an encoder's layer go
unit_dir() { echo "$units/${1}_l$2"; }
# make_units ENCODER LAYER [CUTS...]: k-means of the layer's training frames (once), units of each manifest
make_units() {
  local encoder=$1 layer=$2
  shift 2
  # (frame-level units only: the unit LM and the token ASR merge runs themselves, as dedup_units says)
  steps/make_units.sh --layer "$layer" --k "$kmeans_k" --seed "${seed:-0}" --max-fit-frames "$kmeans_max_frames" \
    --num-threads "$nj" "$(checkpoint_of "$encoder")" "$fbank/cuts_train.jsonl.gz" "$(unit_dir "$encoder" "$layer")" \
    "$@"
}
# token_pairs NAME ENCODER LAYER: the discrete-token ASR's training pairs from ENCODER's units of LAYER
token_pairs() {
  local name=$1 encoder=$2 layer=$3 set
  for set in train dev; do
    steps/make_unit_pairs.sh --dedup "$dedup_units" --lang-dir "data/lang_units_${encoder}_l$layer" \
      "$(unit_dir "$encoder" "$layer")/units_$set.pt" "$fbank/cuts_$set.jsonl.gz" "data/unit_pairs/${name}_$set.tsv"
  done
}
# train_token_asr NAME ENCODER LAYER: train it in the background (wait_background waits)
train_token_asr() {
  local name=$1 encoder=$2 layer=$3
  train_model "${side_by_side[@]}" token_asr "exp/$name" "input_tokenizer=data/lang_units_${encoder}_l$layer" \
    "output_tokenizer=$text_lang" "data.train=data/unit_pairs/${name}_train.tsv" \
    "data.dev=data/unit_pairs/${name}_dev.tsv"
}
# score_token_asr NAME ENCODER LAYER: decode the units of abx_set with it, WER and CER
score_token_asr() {
  local name=$1 encoder=$2 layer=$3
  steps/decode_units.sh --dedup "$dedup_units" "exp/$name" "$(unit_dir "$encoder" "$layer")/units_$abx_set.pt" \
    "$fbank/cuts_$abx_set.jsonl.gz" "exp/$name/decode_$abx_set"
  score_dir "$name" "exp/$name/decode_$abx_set" "$abx_set" wer cer
}

if run_stage 7; then
  log "Stage 7: frame labels by forced alignment with exp/s2p_ft_phone (the 10-minute model: no other labels)"
  steps/align_frames.sh exp/s2p_ft_phone "$labelled" "$labels/subset"
  for set in train dev $abx_set; do
    steps/align_frames.sh exp/s2p_ft_phone "$fbank/cuts_$set.jsonl.gz" "$labels/$set"
  done
fi

if run_stage 8; then
  log "Stage 8: phoneme-classification fine-tuning of the pretrained S2P: ~$subset_minutes min and all training labels"
  s2p_init=$(checkpoint_of s2p_pretrain)
  train_model "${side_by_side[@]}" frame_ce exp/frame_ce "tokenizer_dir=$phone_lang" "data.train=$labelled" \
    "data.dev=$fbank/cuts_dev.jsonl.gz" "init.checkpoint=$s2p_init" \
    "data.frame_labels=[$labels/subset/frame_labels.pt, $labels/dev/frame_labels.pt]"
  if [[ " $unit_encoders " == *" frame_ce_1h "* ]]; then  # the sweep's larger point: a small corpus's whole train
    train_model "${side_by_side[@]}" frame_ce exp/frame_ce_1h "train.max_epochs=$frame_ce_1h_epochs" \
      "tokenizer_dir=$phone_lang" "data.train=$fbank/cuts_train.jsonl.gz" "data.dev=$fbank/cuts_dev.jsonl.gz" \
      "data.frame_labels=[$labels/train/frame_labels.pt, $labels/dev/frame_labels.pt]" "init.checkpoint=$s2p_init"
  fi
  wait_background
fi

if run_stage 9; then
  log "Stage 9: ABX of every layer of $unit_encoders on $abx_set"
  for encoder in $unit_encoders; do
    steps/extract_layers.sh "$(checkpoint_of "$encoder")" "$fbank/cuts_$abx_set.jsonl.gz" \
      "exp/units/$encoder/layers_$abx_set"
    steps/abx.sh --seed "${seed:-0}" --num-threads "$nj" "$labels/$abx_set/frame_labels.pt" \
      "$fbank/cuts_$abx_set.jsonl.gz" "exp/units/$encoder/abx_$abx_set" "exp/units/$encoder/layers_$abx_set"/layer*.pt
  done
fi

if run_stage 10; then
  log "Stage 10: k-means units (k=$kmeans_k) of layer $unit_layer of $unit_encoders; purity and PNMI on $abx_set"
  for encoder in $unit_encoders; do
    make_units "$encoder" "$unit_layer" "$fbank/cuts_train.jsonl.gz" "$fbank/cuts_dev.jsonl.gz" \
      "$fbank/cuts_$abx_set.jsonl.gz"
    steps/unit_quality.sh --lang-dir "$phone_lang" "$(unit_dir "$encoder" "$unit_layer")/units_$abx_set.pt" \
      "$labels/$abx_set/frame_labels.pt" "exp/units/$encoder/purity_$abx_set"
  done
fi

if run_stage 11; then
  log "Stage 11: unit LMs of $lm_encoders units (random and centroid embeddings) and the spot-the-word test"
  spot=data/spot_the_word/$target_lang
  steps/make_spot_the_word.sh --pairs "$spot_pairs" --seed "${seed:-1}" "$corpus_dir/$target_lang" "$spot"
  steps/make_fbank.sh --nj "$nj" --cmd "$train_cmd" "$spot/cuts_spot_the_word.jsonl.gz" "$spot/fbank"
  for encoder in $lm_encoders; do
    make_units "$encoder" "$unit_layer" "$spot/fbank/cuts_spot_the_word.jsonl.gz"
    from=$(unit_dir "$encoder" "$unit_layer")
    for init in random centroids; do  # side by side; both read the k-means file: its width is the embeddings'
      train_model "${side_by_side[@]}" unit_lm "exp/unit_lm_${encoder}_$init" "embeddings=$init" \
        "centroids=$from/kmeans.pt" "data.train=$from/units_train.pt" "data.dev=$from/units_dev.pt" \
        "data.deduplicate=$dedup_units"
    done
    wait_background
    for init in random centroids; do
      steps/spot_the_word.sh "exp/unit_lm_${encoder}_$init" "$from/units_spot_the_word.pt" "$spot/pairs.tsv" \
        "exp/unit_lm_${encoder}_$init/spot_the_word"
    done
  done
fi

if run_stage 12; then
  log "Stage 12: discrete-token ASR from the pretrained encoder's units (one step) and from exp/s2p_ft_phone's" \
    "(two steps) of layers $token_layers, and the fbank baseline"
  systems=("token_asr_s2p_pretrain_l$unit_layer s2p_pretrain $unit_layer")
  for layer in $token_layers; do
    make_units s2p_ft_phone "$layer" "$fbank/cuts_train.jsonl.gz" "$fbank/cuts_dev.jsonl.gz" \
      "$fbank/cuts_$abx_set.jsonl.gz"
    systems+=("token_asr_s2p_ft_phone_l$layer s2p_ft_phone $layer")
  done
  for system in "${systems[@]}"; do
    # shellcheck disable=SC2086  # NAME ENCODER LAYER
    token_pairs $system
  done
  # every training in the background, two at a time on the recipe's cores
  train_model "${side_by_side[@]}" fbank_asr exp/fbank_asr "tokenizer_dir=$text_lang" \
    "data.train=$fbank/cuts_train.jsonl.gz" "data.dev=$fbank/cuts_dev.jsonl.gz"
  running=1
  for system in "${systems[@]}"; do
    # shellcheck disable=SC2086
    train_token_asr $system
    running=$(( running + 1 ))
    if [ "$running" -ge 2 ]; then wait_background; running=0; fi
  done
  wait_background
  for system in "${systems[@]}"; do
    # shellcheck disable=SC2086
    score_token_asr $system
  done
  test_sets=$abx_set decode_s2p fbank_asr exp/fbank_asr wer
fi

if run_stage 13; then
  log "Stage 13: exp/RESULTS_units.md"
  python -m phonasr.bin.units_report --abx-set "$abx_set" exp
fi

mkdir -p exp
stage_times exp/stage_times.tsv
[ ! -f exp/RESULTS_units.md ] || log "results: $(pwd)/exp/RESULTS_units.md"
