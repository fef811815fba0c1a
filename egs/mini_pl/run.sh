#!/usr/bin/env bash
# JSA-SPG for a target language from ~10 minutes of phoneme labels (arXiv 2507.06249), as numbered stages.
# The same script serves egs/mini_pl (synthetic espeak-ng corpus), egs/commonvoice_pl and egs/commonvoice_id
# (a CommonVoice release): what differs between them is in each recipe's conf/recipe.conf.
#
#   bash run.sh                          # everything
#   bash run.sh --stage 3 --stop-stage 5 # only stages 3..5
#   bash run.sh --quick true             # mini_pl: tiny corpus + short training, outputs under quick/
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$recipe_dir"

stage=0
stop_stage=100
quick=false     # a much smaller corpus and shorter training (tests, a first look)
dir=""          # where data/ and exp/ go (default: this recipe dir, or quick/ with --quick true)
corpus_dir=""   # a CommonVoice-layout release (default from conf/recipe.conf)
nj=2            # parallel jobs for corpus building, features and decoding

# conf/recipe.conf sets: target_lang, synth (true: build the corpus with espeak-ng in stage 0),
# pretrained_s2p (skip stage 5 and fine-tune this checkpoint), bpe_size, subset_minutes, results name.
. ./conf/recipe.conf

help_message="Usage: $0 [options]
JSA-SPG recipe for '$target_lang'. Stages:
  0 corpus ($([ "$synth" = true ] && echo 'synthesise with espeak-ng' || echo 'check --corpus-dir'))
  1 lhotse manifests      2 fbank features        3 lang dirs + tokenizers   4 10-min labelled subset
  5 multilingual S2P pretraining                  6 10-min phoneme fine-tuning
  7 baselines: subword FT and full-phoneme FT     8 S2P decoding + PER/WER
  9 SPG init (P2G, G2P from S2P pseudo-labels)    10 JSA training            11 P2G augmentation
  12 S2P -> P2G decoding + WER                    13 results table
Options:
  --stage N --stop-stage N   run stages N..M (default $stage..$stop_stage)
  --quick <true|false>       tiny corpus and training, outputs under quick/ (default $quick)
  --dir DIR                  output root for data/ and exp/ (default: this dir, or quick/)
  --corpus-dir DIR           CommonVoice-layout corpus (default: $corpus_dir)
  --nj N                     parallel jobs (default $nj)"

. ./cmd.sh
. ./path.sh
. utils/parse_options.sh
. utils/log.sh

[ $# -eq 0 ] || die "unexpected arguments: $*"
suffix=""
if [ "$quick" = true ]; then
  suffix=_quick
  [ -n "$dir" ] || dir=quick
fi
# The output root gets links to the recipe's conf/, steps/, utils/, local/ so every path below is relative.
if [ -n "$dir" ] && [ "$dir" != . ]; then
  mkdir -p "$dir"
  for f in conf steps utils local path.sh cmd.sh; do ln -sfn "$recipe_dir/$f" "$dir/$f"; done
  cd "$dir"
fi
[ -n "$corpus_dir" ] || corpus_dir=corpus${suffix}

# conf NAME -> conf/NAME_quick.yaml under --quick true when that file exists, else conf/NAME.yaml
conf() { if [ -f "conf/$1$suffix.yaml" ]; then echo "conf/$1$suffix.yaml"; else echo "conf/$1.yaml"; fi; }
# Languages of the corpus: every language folder, the target first.
languages() { echo "$target_lang"; find "$corpus_dir" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | grep -vx "$target_lang" || true; }
pretrain_languages() { languages | tail -n +2; }
run_stage() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }

log "recipe $recipe_dir, target '$target_lang', output root $(pwd), stages $stage..$stop_stage"

if run_stage 0; then
  if [ "$synth" = true ]; then
    log "Stage 0: synthesise a CommonVoice-layout corpus with espeak-ng into $corpus_dir"
    local/synth/make_corpus.sh --cmd "$train_cmd" --nj "$nj" --config "$(conf synth)" "$corpus_dir"
  else
    log "Stage 0: check the CommonVoice release in $corpus_dir"
    [ -f "$corpus_dir/$target_lang/train.tsv" ] || die "no $corpus_dir/$target_lang/train.tsv: pass --corpus-dir <CommonVoice release>"
  fi
fi

if run_stage 1; then
  log "Stage 1: lhotse manifests for $(languages | xargs)"
  for lang in $(languages); do
    local/commonvoice/prepare.sh "$corpus_dir" "$lang" "data/manifests/$lang"
  done
fi

if run_stage 2; then
  log "Stage 2: 80-dim fbank features"
  for lang in $(languages); do
    for split in train dev test; do
      steps/make_fbank.sh --cmd "$train_cmd" --nj "$nj" "data/manifests/$lang/cuts_$split.jsonl.gz" "data/fbank/$lang"
    done
  done
fi

if run_stage 3; then
  log "Stage 3: lang dirs (shared IPA inventory, $target_lang phonemes, BPE, characters)"
  steps/make_lang.sh --bpe-size "$bpe_size" data "$target_lang" "$(pretrain_languages | xargs)"
fi

if run_stage 4; then
  log "Stage 4: choose ~$subset_minutes minutes of phoneme-labelled $target_lang speech covering its phonemes"
  steps/select_subset.sh --minutes "$subset_minutes" "data/fbank/$target_lang/cuts_train.jsonl.gz" "data/subset/$target_lang"
fi

if run_stage 5; then
  if [ -n "$pretrained_s2p" ]; then
    log "Stage 5: using the pretrained multilingual S2P $pretrained_s2p"
  else
    log "Stage 5: multilingual phoneme CTC pretraining on $(pretrain_languages | xargs)"
    steps/train.sh --cmd "$cuda_cmd" "$(conf s2p_pretrain)" exp/s2p_pretrain
  fi
fi
