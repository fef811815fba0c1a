#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
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
nj=2            # parallel jobs (CPU cores) for corpus building, features, decoding and side-by-side trainings

# conf/recipe.conf sets: target_lang, synth (true: build the corpus with espeak-ng in stage 0), g2p and lexicon
# (phoneme labels of a real corpus), pretrained_s2p (skip stage 5 and fine-tune this checkpoint), pretrain_langs,
# bpe_size, subset_minutes, decode_nbest, aug_beam/aug_nbest (P2G augmentation), lda_nbest/lda_text
# (language-domain adaptation).
. ./conf/recipe.conf

help_message="Usage: $0 [options]
JSA-SPG recipe for '$target_lang'. Stages:
  0 corpus ($([ "$synth" = true ] && echo 'synthesise with espeak-ng' || echo 'check --corpus-dir'))
  1 lhotse manifests      2 fbank features        3 lang dirs + tokenizers   4 10-min labelled subset
  5 multilingual S2P pretraining                  6 10-min phoneme fine-tuning
  7 baselines: subword FT and full-phoneme FT     8 S2P decoding + PER/WER
  9 SPG init (P2G, G2P from S2P pseudo-labels)    10 JSA training            11 P2G augmentation
  12 S2P -> P2G decoding + WER                    13 language-domain adaptation (text only)
Every run ends by logging the wall time of each stage (exp/stage_times.tsv) and printing the results table
exp/results.tsv (utils/show_results.sh).
Options:
  --stage N --stop-stage N   run stages N..M (default $stage..$stop_stage)
  --quick <true|false>       tiny corpus and training, outputs under quick/ (default $quick)
  --dir DIR                  output root for data/ and exp/ (default: this dir, or quick/)
  --corpus-dir DIR           CommonVoice-layout corpus (default: $corpus_dir)
  --nj N                     parallel jobs, i.e. the CPU cores to use (default $nj)"

. ./cmd.sh
. utils/parse_options.sh
. utils/log.sh
[ $# -eq 0 ] || die "unexpected arguments: $*"
. utils/stages.sh
. ./path.sh  # after the options, so that --help and a mistyped option never start the installer
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
[ -n "$corpus_dir" ] || corpus_dir=corpus
[ -n "$lda_text" ] || lda_text=$corpus_dir/$target_lang/text_other_domain.txt

# conf NAME -> conf/NAME_quick.yaml under --quick true when that file exists, else conf/NAME.yaml
conf() { if [ -f "conf/$1$suffix.yaml" ]; then echo "conf/$1$suffix.yaml"; else echo "conf/$1.yaml"; fi; }
# Languages to prepare, the target first: with a pretrained S2P only the target; otherwise the target and the
# pretraining languages (pretrain_langs, default every other language folder of the corpus).
pretrain_languages() {
  if [ -n "$pretrained_s2p" ]; then return 0; fi
  if [ -n "$pretrain_langs" ]; then printf '%s\n' $pretrain_langs; return 0; fi
  find "$corpus_dir" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | grep -vx "$target_lang" || true
}
languages() { echo "$target_lang"; pretrain_languages; }
# "[data/fbank/a/cuts_SPLIT.jsonl.gz, data/fbank/b/...]" for the given languages, as a YAML list for --set
manifests() { local split=$1 out="" lang; shift; for lang in "$@"; do out+="${out:+, }data/fbank/$lang/cuts_$split.jsonl.gz"; done; echo "[$out]"; }

log "recipe $recipe_dir, target '$target_lang', output root $(pwd), stages $stage..$stop_stage"

if run_stage 0; then
  if [ "$synth" = true ]; then
    log "Stage 0: synthesise a CommonVoice-layout corpus with espeak-ng into $corpus_dir"
    local/synth/make_corpus.sh --cmd "$train_cmd" --nj "$nj" "$(conf synth)" "$corpus_dir"
  else
    log "Stage 0: check the CommonVoice release in $corpus_dir"
    [ -f "$corpus_dir/$target_lang/train.tsv" ] || die "no $corpus_dir/$target_lang/train.tsv: pass --corpus-dir <CommonVoice release>"
  fi
fi

if run_stage 1; then
  log "Stage 1: lhotse manifests for $(languages | xargs)"
  for lang in $(languages); do
    if [ "$synth" = true ]; then  # the synthetic corpus carries espeak-ng's phonemes (phonemes.tsv)
      local/commonvoice/prepare.sh "$corpus_dir" "$lang" "data/manifests/$lang"
    else  # a real release has none: every split is labelled through $g2p (espeak-ng, or a lexicon) for scoring
      local/commonvoice/prepare.sh "$corpus_dir" "$lang" "data/local/cv/$lang"
      for split in train dev test; do
        steps/add_phones.sh --g2p "$g2p" --lexicon "$lexicon" "data/local/cv/$lang/cuts_$split.jsonl.gz" \
          "data/manifests/$lang/cuts_$split.jsonl.gz"
      done
    fi
  done
fi

if run_stage 2; then
  log "Stage 2: 80-dim fbank features"
  for lang in $(languages); do
    steps/make_fbank.sh --cmd "$train_cmd" --nj "$nj" "data/manifests/$lang/cuts_"{train,dev,test}.jsonl.gz "data/fbank/$lang"
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
    # shellcheck disable=SC2046  # one language per word
    steps/train.sh --cmd "$cuda_cmd" "$(conf s2p_pretrain)" exp/s2p_pretrain \
      --set "data.train=$(manifests train $(pretrain_languages))" --set "data.dev=$(manifests dev $(pretrain_languages))"
  fi
fi
s2p_init=${pretrained_s2p:-exp/s2p_pretrain/final.pt}
fbank=data/fbank/$target_lang
# Two trainings that do not depend on each other run side by side, each with half the cores: small models
# use a second thread poorly (four P2G epochs: 1.14x faster with two threads than with one).
side_by_side_threads=$(( nj / 2 > 1 ? nj / 2 : 1 ))
test_sets="dev test"
[ "$quick" = true ] && test_sets="test"  # a smoke run: one small test set

if run_stage 6; then
  log "Stage 6: crosslingual phoneme fine-tuning on the ~$subset_minutes-minute labelled subset"
  steps/train.sh --cmd "$cuda_cmd" "$(conf s2p_ft_phone)" exp/s2p_ft_phone --set "init.checkpoint=$s2p_init"
fi

if run_stage 7; then
  log "Stage 7: baselines on the full training set: subword (BPE) CTC FT, and phoneme FT with all labels"
  in_background steps/train.sh --cmd "$cuda_cmd" --num-threads "$side_by_side_threads" "$(conf s2p_ft_bpe)" \
    exp/s2p_ft_bpe --set "init.checkpoint=$s2p_init"
  in_background steps/train.sh --cmd "$cuda_cmd" --num-threads "$side_by_side_threads" "$(conf s2p_ft_phone_full)" \
    exp/s2p_ft_phone_full --set "init.checkpoint=$s2p_init"
  wait_background
fi

# decode_jobs CUTS: decoding jobs and threads per job for a manifest ("JOBS THREADS"): a job per 500 utterances,
# at most --nj, sharing --nj threads, since a job's start (~3 s) costs more than decoding a small set and jobs x
# threads beyond the cores slow every job down several times.
decode_jobs() {
  local n
  n=$(gzip -dc "$1" | wc -l)
  n=$(( (n + 499) / 500 ))
  n=$(( n < 1 ? 1 : (n > nj ? nj : n) ))
  echo "$n $(( nj / n > 1 ? nj / n : 1 ))"
}

# decode_set SYSTEM CHECKPOINT CUTS NAME REF_FIELD [decode options]: S2P beam search into exp/SYSTEM/decode_NAME,
# keeping the n-best and the log-posteriors that WFST/LM decoding and marginal-likelihood rescoring read later.
decode_set() {
  local system=$1 model=$2 cuts=$3 name=$4 ref_field=$5 jobs threads; shift 5
  read -r jobs threads < <(decode_jobs "$cuts")
  steps/decode_ctc.sh --cmd "$decode_cmd" --nj "$jobs" --num-threads "$threads" --ref-field "$ref_field" \
    --nbest "$decode_nbest" --save-logprobs true "$@" "$model" "$cuts" "exp/$system/decode_$name"
}

# score_dir SYSTEM DECODE_DIR TEST_SET METRIC...: a results row per metric from DECODE_DIR's ref.txt and hyp.txt
score_dir() {
  local system=$1 dir=$2 set=$3 metric; shift 3
  for metric in "$@"; do
    steps/score.sh --metric "$metric" --system "$system" --test-set "$set" "$dir/ref.txt" "$dir/hyp.txt" "$dir"
  done
}

# decode_s2p SYSTEM CHECKPOINT per|wer [decode options]: the target's test sets, PER of phoneme models, or WER
# and CER of subword models
decode_s2p() {
  local system=$1 model=$2 metric=$3 set; shift 3
  for set in $test_sets; do
    if [ "$metric" = per ]; then
      decode_set "$system" "$model" "$fbank/cuts_$set.jsonl.gz" "$set" phones "$@"
      score_dir "$system" "exp/$system/decode_$set" "$set" per
    else
      decode_set "$system" "$model" "$fbank/cuts_$set.jsonl.gz" "$set" text "$@"
      score_dir "$system" "exp/$system/decode_$set" "$set" wer cer
    fi
  done
}

if run_stage 8; then
  log "Stage 8: S2P decoding: PER of the phoneme models, WER/CER of the subword baseline"
  if [ -z "$pretrained_s2p" ]; then
    decode_s2p s2p_pretrain exp/s2p_pretrain per  # the target before fine-tuning: the crosslingual starting point
    for lang in $(pretrain_languages); do         # and the pretraining languages themselves
      decode_set s2p_pretrain exp/s2p_pretrain "data/fbank/$lang/cuts_dev.jsonl.gz" "dev_$lang" phones
      score_dir s2p_pretrain "exp/s2p_pretrain/decode_dev_$lang" "dev_$lang" per
    done
  fi
  decode_s2p s2p_ft_phone exp/s2p_ft_phone per
  decode_s2p s2p_ft_phone_full exp/s2p_ft_phone_full per
  decode_s2p s2p_ft_bpe exp/s2p_ft_bpe wer
fi

if run_stage 9; then
  log "Stage 9: SPG init: P2G and G2P trained from scratch on the 10-min S2P's hypotheses of the training set"
  for set in train dev; do
    decode_set s2p_ft_phone exp/s2p_ft_phone "$fbank/cuts_$set.jsonl.gz" "$set" phones
    steps/make_pairs.sh "exp/s2p_ft_phone/decode_$set" "$fbank/cuts_$set.jsonl.gz" "data/pairs/spg_$set.tsv"
  done
  in_background steps/train.sh --cmd "$cuda_cmd" --num-threads "$side_by_side_threads" "$(conf p2g)" exp/p2g_init
  in_background steps/train.sh --cmd "$cuda_cmd" --num-threads "$side_by_side_threads" "$(conf g2p)" exp/g2p_init
  wait_background
fi

if run_stage 10; then
  log "Stage 10: JSA training of S2P, P2G and G2P (phonemes as latent variables, G2P proposals)"
  steps/train.sh --cmd "$cuda_cmd" "$(conf jsa)" exp/jsa
fi

if run_stage 11; then
  log "Stage 11: P2G augmentation: JSA S2P n-best on the training set paired with the true text"
  # (later options win: the augmentation's beam and n-best, and no log-posteriors of the whole training set)
  decode_set jsa exp/jsa "$fbank/cuts_train.jsonl.gz" train_nbest phones --model-name s2p --beam "$aug_beam" \
    --nbest "$aug_nbest" --save-logprobs false
  steps/make_pairs.sh --nbest "$aug_nbest" exp/jsa/decode_train_nbest "$fbank/cuts_train.jsonl.gz" data/pairs/aug_train.tsv
  # Its dev set is what the P2G reads when decoding: the JSA S2P's 1-best of the dev set.
  decode_set jsa exp/jsa "$fbank/cuts_dev.jsonl.gz" dev phones --model-name s2p
  steps/make_pairs.sh exp/jsa/decode_dev "$fbank/cuts_dev.jsonl.gz" data/pairs/aug_dev.tsv
  steps/train.sh --cmd "$cuda_cmd" "$(conf p2g_aug)" exp/p2g_aug
fi

# decode_s2p_p2g SYSTEM S2P_DECODE_SYSTEM P2G_CHECKPOINT [decode_p2g options]: words from the S2P's 1-best phonemes
decode_s2p_p2g() {
  local system=$1 s2p=$2 p2g=$3 set; shift 3
  for set in $test_sets; do
    steps/decode_p2g.sh --cuts "$fbank/cuts_$set.jsonl.gz" --nbest "$decode_nbest" --save-logprobs true "$@" \
      "$p2g" "exp/$s2p/decode_$set" "exp/$system/decode_p2g_$set"
    score_dir "$system" "exp/$system/decode_p2g_$set" "$set" wer cer
  done
}

# score_per SYSTEM S2P_SYSTEM: PER rows for a system whose S2P was decoded (and scored) as S2P_SYSTEM
score_per() {
  local set
  for set in $test_sets; do
    score_dir "$1" "exp/$2/decode_$set" "$set" per
  done
}

if run_stage 12; then
  log "Stage 12: S2P -> P2G decoding without LM: SPG init, JSA-SPG, JSA-SPG + P2G augmentation"
  decode_s2p_p2g spg_init s2p_ft_phone exp/p2g_init
  decode_s2p jsa exp/jsa per --model-name s2p
  decode_s2p_p2g jsa jsa exp/jsa --model-name p2g
  decode_s2p_p2g jsa_aug jsa exp/p2g_aug
  score_per spg_init s2p_ft_phone  # the S2P of each system, so the table shows PER beside WER
  score_per jsa_aug jsa
fi

if run_stage 13; then
  log "Stage 13: language-domain adaptation: G2P n-best of held-out text -> P2G fine-tuning"
  [ -f "$lda_text" ] || die "no text-only data $lda_text (set lda_text in conf/recipe.conf)"
  # The last tenth of the text is the dev set of the adaptation, so early stopping follows the new domain.
  mkdir -p data/lda
  n=$(wc -l <"$lda_text")
  ndev=$(( n / 10 > 0 ? n / 10 : 1 ))
  head -n $(( n - ndev )) "$lda_text" >data/lda/text_train
  tail -n "$ndev" "$lda_text" >data/lda/text_dev
  steps/g2p_nbest.sh --lang "$target_lang" --nbest "$lda_nbest" --model-name g2p exp/jsa data/lda/text_train \
    data/pairs/lda_train.tsv
  steps/g2p_nbest.sh --lang "$target_lang" --nbest 1 --model-name g2p exp/jsa data/lda/text_dev data/pairs/lda_dev.tsv
  steps/train.sh --cmd "$cuda_cmd" "$(conf p2g_lda)" exp/p2g_lda
  decode_s2p_p2g jsa_lda jsa exp/p2g_lda
fi

mkdir -p exp
stage_times exp/stage_times.tsv
if [ -f exp/results.tsv ]; then
  log "results so far (exp/results.tsv)"
  utils/show_results.sh exp/results.tsv
fi
