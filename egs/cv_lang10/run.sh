#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2154  # train_cmd, decode_cmd: ./cmd.sh
# Multilingual phoneme pretraining of Whistle-S (arXiv 2406.02166) on CommonVoice's ten-language set: the S2P that
# egs/commonvoice_pl and egs/commonvoice_id fine-tune (their pretrained_s2p points at exp/s2p_pretrain/final.pt).
#
#   bash run.sh --corpus-dir /data/cv-corpus-11.0   # a CommonVoice release holding the languages below
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$recipe_dir"

stage=0
stop_stage=100
corpus_dir=""
langs="en es fr it ky nl ru sv-SE tr tt"   # Whistle's CV-Lang10
g2p=espeak      # phoneme labels: espeak-ng, or lexicon (then lexicon_dir/<lang>.txt, word<TAB>phonemes)
lexicon_dir=""
nj=8
decode_nbest=16  # hypotheses kept per utterance

# shellcheck disable=SC2034  # read by utils/parse_options.sh
help_message="Usage: $0 --corpus-dir DIR [options]
Stages:
  0 check the CommonVoice release    1 lhotse manifests + phoneme labels    2 fbank features
  3 shared IPA phoneme inventory     4 Whistle-S phoneme CTC pretraining (conf/s2p_pretrain.yaml)
  5 decoding: PER per language on dev and test (beam 16)
Every run ends by printing the results table exp/results.tsv (utils/show_results.sh).
Options:
  --stage N --stop-stage N   run stages N..M (default $stage..$stop_stage)
  --corpus-dir DIR           CommonVoice release with <lang>/{train,dev,test}.tsv and clips/
  --langs \"L1 L2 ...\"        languages (default: $langs); each needs a phoneme inventory
                             (python -m phonasr.phonemes.build_inventory --langs L builds one from espeak-ng)
  --g2p espeak|lexicon       phoneme labels from espeak-ng or from lexicons (default: $g2p)
  --lexicon-dir DIR          <lang>.txt lexicons for --g2p lexicon
  --nj N                     parallel jobs (default $nj)
  --decode-nbest N           hypotheses kept per utterance by decoding (default $decode_nbest)"

. ./cmd.sh
. utils/parse_options.sh
. utils/log.sh
[ $# -eq 0 ] || die "unexpected arguments: $*"
. utils/stages.sh
. ./path.sh  # after the options, so that --help and a mistyped option never start the installer
. utils/recipe_train.sh
[ -n "$corpus_dir" ] || die "pass --corpus-dir <CommonVoice release>"

if run_stage 0; then
  log "Stage 0: check $corpus_dir and the phoneme inventories of $langs"
  for lang in $langs; do
    [ -f "$corpus_dir/$lang/train.tsv" ] || die "no $corpus_dir/$lang/train.tsv: is --corpus-dir a CommonVoice release?"
    python -c "from phonasr.phonemes import load_inventory; load_inventory('${lang%%-*}')" 2>/dev/null ||
      die "no phoneme inventory for $lang: python -m phonasr.phonemes.build_inventory --langs ${lang%%-*}"
  done
fi

if run_stage 1; then
  log "Stage 1: manifests and phoneme labels ($g2p)"
  for lang in $langs; do
    local/commonvoice/prepare.sh "$corpus_dir" "$lang" "data/local/cv/$lang"
    for split in train dev test; do
      steps/add_phones.sh --g2p "$g2p" --lexicon "${lexicon_dir:+$lexicon_dir/$lang.txt}" \
        "data/local/cv/$lang/cuts_$split.jsonl.gz" "data/manifests/$lang/cuts_$split.jsonl.gz"
    done
  done
fi

if run_stage 2; then
  log "Stage 2: 80-dim fbank (speed perturbation for training)"
  for lang in $langs; do
    steps/make_fbank.sh --cmd "$train_cmd" --nj "$nj" --speed-perturb true "data/manifests/$lang/cuts_train.jsonl.gz" \
      "data/fbank/$lang"
    steps/make_fbank.sh --cmd "$train_cmd" --nj "$nj" "data/manifests/$lang/cuts_"{dev,test}.jsonl.gz "data/fbank/$lang"
  done
fi

if run_stage 3; then
  log "Stage 3: the shared IPA inventory of $langs (data/lang_phone)"
  steps/make_lang.sh --bpe-size 500 data "${langs%% *}" "${langs#* }"
fi

if run_stage 4; then
  log "Stage 4: Whistle-S multilingual phoneme CTC pretraining"
  # shellcheck disable=SC2086  # one language per word
  train_model s2p_pretrain exp/s2p_pretrain tokenizer_dir=data/lang_phone "data.train=$(manifest_list train $langs)" \
    "data.dev=$(manifest_list dev $langs)"
fi

if run_stage 5; then
  log "Stage 5: PER of the pretrained S2P per language"
  for lang in $langs; do
    for split in dev test; do
      steps/decode_ctc.sh --cmd "$decode_cmd" --nj "$nj" --ref-field phones --nbest "$decode_nbest" \
        exp/s2p_pretrain "data/fbank/$lang/cuts_$split.jsonl.gz" "exp/s2p_pretrain/decode_${split}_$lang"
      steps/score.sh --metric per --system s2p_pretrain --test-set "${split}_$lang" \
        "exp/s2p_pretrain/decode_${split}_$lang/"{ref,hyp}.txt "exp/s2p_pretrain/decode_${split}_$lang"
    done
  done
fi

if [ -f exp/results.tsv ]; then
  log "results so far (exp/results.tsv)"
  utils/show_results.sh exp/results.tsv
fi
