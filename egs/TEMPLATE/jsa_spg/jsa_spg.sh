#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/../../..
# shellcheck disable=SC2154  # target_lang, bpe_size, ...: the recipe's conf/recipe.conf; train_cmd: its cmd.sh
# shellcheck disable=SC2034  # help_message, overlay, lm_*: read by the sourced utils/ (parse_options, recipe_*.sh)
# JSA-SPG for a target language from ~10 minutes of phoneme labels (arXiv 2507.06249), as numbered stages: the
# pipeline that egs/mini_pl, egs/commonvoice_pl and egs/commonvoice_id share. Like ESPnet's egs2/TEMPLATE/asr1/asr.sh
# it is no recipe of its own: each recipe's run.sh is a link to this file, and what differs between recipes is in
# the recipe's conf/:
#   recipe.conf    the corpus and the run's facts: target language, pretraining languages, BPE size, ...
#   *.yaml         models, optimisers and schedules only; lang dirs and manifests come from here, by --set
#   quick.conf     optional: the recipe's --quick variant (recipe.conf settings, and an overlay of config keys)
#
#   bash run.sh                          # everything
#   bash run.sh --stage 3 --stop-stage 5 # only stages 3..5
#   bash run.sh --quick true             # the recipe's quick variant, outputs under quick/
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)  # the link's dir: the recipe, not this template
cd "$recipe_dir"
if [ ! -f conf/recipe.conf ]; then
  echo "$0: no conf/recipe.conf beside it: run a recipe's run.sh (egs/<recipe>/run.sh links here)" >&2
  exit 1
fi

stage=0
stop_stage=100
quick=false     # the recipe's quick variant (conf/quick.conf): a small corpus and short trainings, under quick/
dir=""          # where data/ and exp/ go (default: this recipe dir, or quick/ with --quick true)
corpus_dir=""   # a CommonVoice-layout release (default from conf/recipe.conf)
nj=2            # parallel jobs (CPU cores) for corpus building, features, decoding and side-by-side trainings
seed=""         # every training's seed and MLS's sampling seed (empty: each conf/*.yaml's own seed, MLS's default);
                # the corpus and the data stages never read it (utils/run_seeds.sh: the headline rows over seeds)
controls=false  # stage 19, the controls and ablations: off unless asked, as each costs about a JSA training

# Defaults of the settings conf/recipe.conf may change (see a recipe's recipe.conf for the others: target_lang,
# pretrained_s2p, pretrain_langs, bpe_size, subset_minutes, g2p, lexicon, decode_nbest, aug_beam, aug_nbest,
# lda_nbest, lda_text).
make_corpus=""       # stage 0 builds the corpus with this command ([--cmd C --nj N] CONF CORPUS_DIR) from conf/CONF
corpus_conf=""       #   e.g. local/synth/make_corpus.sh and synth.yaml; empty: --corpus-dir is a release
test_sets="dev test" # the target's sets that every system is scored on: each a <set>.tsv of the release, prepared
                     #   in stage 1 beside train, dev, test (a synthetic corpus adds test_other: other-domain text)
text_units=bpe       # the graphemes y that the P2G and the subword baseline write: bpe (bpe_size pieces; the
                     # paper's, for tens of thousands of sentences) or char (a small text: pieces would be words)
overlay=""           # per-config keys that differ from conf/NAME.yaml (utils/overlay_sets.py), e.g. conf/quick.yaml
lm_order=4           # stages 14-16: the word n-gram LMs of the training transcripts (+ lda_text: the adaptation LM)
lm_nbest=64          #   distinct word sequences kept per utterance by WFST decoding (re-ranked, rescored by MLS)
lm_beam=16           #   WFST decoding's search beam and lattice beam: the n-best's cost. Lattices of flat
lm_lattice_beam=8    #   posteriors (barely trained models, e.g. --quick) grow with both
lm_weights="0 0.1 0.2 0.3 0.4 0.5 0.6 0.8 1.0 1.2 1.5 2.0 2.5 3.0"  # the grid each LM weight is chosen from, on dev
mls_samples=10       #   G2P samples per hypothesis of marginal-likelihood scoring
lm_lexicon=""        #   the human lexicon of the upper-bound row: espeak, or a word<TAB>phonemes file (default:
                     #   the recipe's lexicon when g2p=lexicon, else espeak)
control_systems="s2p_longer p2g_longer reference_jsa jsa_long jsa_zero_labels"  # stage 19: which controls
controls_jsa_epochs=4  # control_jsa_long trains this many times exp/jsa's train.max_steps and train.max_epochs
. ./conf/recipe.conf

help_message="Usage: $0 [options]
JSA-SPG recipe for '$target_lang'. Stages:
  0 corpus ($([ -n "$make_corpus" ] && echo "build it: $make_corpus conf/$corpus_conf" || echo 'check --corpus-dir'))
  1 lhotse manifests, and Kaldi data dirs of every split (data/kaldi, validated)
  2 fbank features        3 lang dirs + tokenizers   4 10-min labelled subset
  5 multilingual S2P pretraining                  6 10-min phoneme fine-tuning
  7 baselines: subword FT and full-phoneme FT     8 S2P decoding + PER/WER
  9 SPG init (P2G, G2P from S2P pseudo-labels)    10 JSA training            11 P2G augmentation
  12 S2P -> P2G decoding + WER (and the P2G on the true phonemes)  13 language-domain adaptation (text only)
  14 word n-gram LM + decoding graphs (text-unit TLG, lexicon-free phone HLG from the G2P, human-lexicon phone HLG),
     and the adaptation LM (training transcripts + the LDA text) with its TLG
  15 WFST decoding with the LM; subword FT and JSA-SPG + LDA also with the adaptation LM (the paper's LDA baseline)
  16 marginal-likelihood scoring (MLS) of the LM n-best (JSA-SPG + LDA: with the adaptation LM)
  (every LM weight of 15-16 is chosen on dev and applied to the test sets; the sweeps are in exp/*/lmwt/)
  17 pack the JSA-SPG system into exp/jsa_aug/model (phonasr transcribe reads it)
  18 report: exp/RESULTS.md in the paper's layout, paired significance tests, plots (utils/make_report.sh)
  19 controls, only with --controls true (each a system control_<name>, rows like those of the system it controls;
     the updates of exp/jsa are its config's train.max_steps):
     s2p_longer       the 10-min phoneme FT continued from exp/s2p_ft_phone on the labelled subset for as many
                      updates as JSA makes, at JSA's optimiser and schedule; PER, and WER through SPG init's P2G
     p2g_longer       SPG init's P2G and G2P trained on the SPG pairs for as many updates, the same way; WER
                      from the 10-min FT S2P
     reference_jsa    JSA with the reference's approximations (length-normalised weights, chains restarted
                      every batch, weights from train-mode passes, G2P proposals only, new chains from a
                      proposal), exp/jsa's steps and seed; PER, WER, and the cache PER of it and of exp/jsa
     jsa_long         JSA for --controls-jsa-epochs times exp/jsa's max_steps and max_epochs, no early stop;
                      PER, WER, cache PER, TensorBoard curves in exp/control_jsa_long
     jsa_zero_labels  JSA without any phoneme label: SPG init from the multilingual S2P's decoding of the
                      training set (data/lang_phone inventory), JSA from that S2P with jsa.labelled null
Every run ends by logging the wall time of each stage (exp/stage_times.tsv) and printing the results table
exp/results.tsv (utils/show_results.sh).
Options:
  --stage N --stop-stage N   run stages N..M (default $stage..$stop_stage)
  --quick <true|false>       the quick variant (conf/quick.conf$([ -f conf/quick.conf ] || echo ': none here')), \
outputs under quick/ (default $quick)
  --dir DIR                  output root for data/ and exp/ (default: this dir, or quick/)
  --corpus-dir DIR           CommonVoice-layout corpus (default: $corpus_dir)
  --nj N                     parallel jobs, i.e. the CPU cores to use (default $nj)
  --seed N                   the seed of every training (stages 5-13) and of MLS sampling (16), re-drawing every
                             random choice after the data (default: each config's own)
  --controls <true|false>    run stage 19, the controls: each costs about as much as JSA (default $controls)
  --control-systems \"A B\"    stage 19's controls, of those listed above (default \"$control_systems\")
  --controls-jsa-epochs N    control_jsa_long's length in multiples of exp/jsa's (default $controls_jsa_epochs)"

. ./cmd.sh
. utils/parse_options.sh
. utils/log.sh
[ $# -eq 0 ] || die "unexpected arguments: $*"
[ -z "$seed" ] || [[ $seed =~ ^[0-9]+$ ]] || die "--seed takes a whole number, got '$seed'"
[[ $controls_jsa_epochs =~ ^[1-9][0-9]*$ ]] \
  || die "--controls-jsa-epochs takes a whole number >= 1, got '$controls_jsa_epochs'"
. utils/stages.sh
. utils/recipe_train.sh
. utils/recipe_decode.sh
if [ "$quick" = true ]; then
  [ -f conf/quick.conf ] || die "this recipe has no quick variant (no conf/quick.conf)"
  . ./conf/quick.conf
  [ -n "$dir" ] || dir=quick
fi
. ./path.sh  # after the options, so that --help and a mistyped option never start the installer
# The output root gets links to the recipe's conf/, steps/, utils/, local/ so every path below is relative.
if [ -n "$dir" ] && [ "$dir" != . ]; then
  mkdir -p "$dir"
  for f in conf steps utils local path.sh cmd.sh; do ln -sfn "$recipe_dir/$f" "$dir/$f"; done
  cd "$dir"
fi
[ -n "$corpus_dir" ] || corpus_dir=corpus
[ -n "$lda_text" ] || lda_text=$corpus_dir/$target_lang/text_other_domain.txt
if [ -z "$lm_lexicon" ]; then
  if [ "$g2p" = lexicon ]; then lm_lexicon=$lexicon; else lm_lexicon=espeak; fi
fi

# Languages to prepare, the target first: with a pretrained S2P only the target; otherwise the target and the
# pretraining languages (pretrain_langs, default every other language folder of the corpus).
pretrain_languages() {
  if [ -n "$pretrained_s2p" ]; then return 0; fi
  if [ -n "$pretrain_langs" ]; then printf '%s\n' $pretrain_langs; return 0; fi
  find "$corpus_dir" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | grep -vx "$target_lang" || true
}
languages() { echo "$target_lang"; pretrain_languages; }
# The release splits stage 1 prepares for a language: CommonVoice's three, and for the target also its test_sets.
splits_of() {
  if [ "$1" = "$target_lang" ]; then printf '%s\n' train dev test $test_sets | awk '!seen[$0]++' | xargs
  else echo train dev test; fi
}

# What the stages write and the trainings read: the one place that names them (the YAMLs do not).
phone_lang=data/lang_phone_$target_lang
bpe_lang=data/lang_bpe${bpe_size}_$target_lang
char_lang=data/lang_char_$target_lang
case $text_units in  # the graphemes y: what the P2G and the subword baseline write, and the TLG spells words in
  bpe) text_lang=$bpe_lang ;;
  char) text_lang=$char_lang ;;
  *) die "text_units must be bpe or char, got '$text_units' (conf/recipe.conf)" ;;
esac
fbank=data/fbank/$target_lang
labelled=data/subset/$target_lang/cuts_train.jsonl.gz
s2p_init=${pretrained_s2p:-exp/s2p_pretrain/final.pt}
target_train=data.train=$fbank/cuts_train.jsonl.gz
target_dev=data.dev=$fbank/cuts_dev.jsonl.gz
p2g_tokenizers=("input_tokenizer=$phone_lang" "output_tokenizer=$text_lang")
multi_phone_lang=data/lang_phone  # the multilingual S2P's inventory: the shared IPA phonemes of stage 3
lm_dir=data/lm_$target_lang
lda_lm_dir=data/lm_${target_lang}_lda  # the adaptation LM: the same text as language-domain adaptation (stage 13)
lm_sets=$(printf '%s\n' dev $test_sets | awk '!seen[$0]++' | xargs)  # LM weights are chosen on dev: always decoded
# Two trainings that do not depend on each other run side by side, each with half the cores: small models
# use a second thread poorly (four P2G epochs: 1.14x faster with two threads than with one).
side_by_side=(--background --num-threads "$(( nj / 2 > 1 ? nj / 2 : 1 ))")

# train_jsa EXP [KEY=VALUE...]: JSA (conf/jsa.yaml) of the recipe's lang dirs, manifests and labelled subset into
# EXP, then the KEY=VALUEs (a later one wins): stage 10, and the JSA controls of stage 19
train_jsa() {
  local exp=$1
  shift
  train_model jsa "$exp" "tokenizers.phone=$phone_lang" "tokenizers.text=$text_lang" "tokenizers.char=$char_lang" \
    "jsa.labelled=$labelled" "$target_train" "$target_dev" "$@"
}

log "recipe $recipe_dir, target '$target_lang', output root $(pwd), stages $stage..$stop_stage," \
  "seed ${seed:-of each config}"

if run_stage 0; then
  if [ -n "$make_corpus" ]; then
    log "Stage 0: build the corpus in $corpus_dir ($make_corpus, conf/$corpus_conf)"
    config_sets corpus_sets "${corpus_conf%.yaml}"
    "$make_corpus" --cmd "$train_cmd" --nj "$nj" "conf/$corpus_conf" "$corpus_dir" "${corpus_sets[@]}"
  else
    log "Stage 0: check the CommonVoice release in $corpus_dir"
    [ -f "$corpus_dir/$target_lang/train.tsv" ] || die "no $corpus_dir/$target_lang/train.tsv: pass --corpus-dir <CommonVoice release>"
  fi
fi

if run_stage 1; then
  log "Stage 1: lhotse manifests and Kaldi data dirs for $(languages | xargs)"
  for lang in $(languages); do
    splits=$(splits_of "$lang")
    if [ "$g2p" = corpus ]; then  # the corpus carries its phonemes (phonemes.tsv, as the synthetic one does)
      local/commonvoice/prepare.sh --kaldi-dir "data/kaldi/$lang" --splits "$splits" "$corpus_dir" "$lang" \
        "data/manifests/$lang"
    else  # a real release has none: every split is labelled through $g2p (espeak-ng, or a lexicon) for scoring
      local/commonvoice/prepare.sh --kaldi-dir "data/kaldi/$lang" --splits "$splits" "$corpus_dir" "$lang" \
        "data/local/cv/$lang"
      for split in $splits; do
        steps/add_phones.sh --g2p "$g2p" --lexicon "$lexicon" "data/local/cv/$lang/cuts_$split.jsonl.gz" \
          "data/manifests/$lang/cuts_$split.jsonl.gz"
      done
    fi
    # Kaldi tools and `lhotse kaldi import` read these: sorted, consistent, validated (or the stage stops here).
    if ! stage_done "data/kaldi/$lang" fix_data_dir; then
      for split in $splits; do
        utils/fix_data_dir.sh "data/kaldi/$lang/$split"
      done
      mark_done "data/kaldi/$lang" fix_data_dir
    fi
  done
fi

if run_stage 2; then
  log "Stage 2: 80-dim fbank features"
  for lang in $(languages); do
    manifests=()
    for split in $(splits_of "$lang"); do manifests+=("data/manifests/$lang/cuts_$split.jsonl.gz"); done
    steps/make_fbank.sh --cmd "$train_cmd" --nj "$nj" "${manifests[@]}" "data/fbank/$lang"
  done
fi

if run_stage 3; then
  log "Stage 3: lang dirs (shared IPA inventory, $target_lang phonemes, BPE, characters)"
  steps/make_lang.sh --bpe-size "$bpe_size" data "$target_lang" "$(pretrain_languages | xargs)"
fi

if run_stage 4; then
  log "Stage 4: choose ~$subset_minutes minutes of phoneme-labelled $target_lang speech covering its phonemes"
  steps/select_subset.sh --minutes "$subset_minutes" "$fbank/cuts_train.jsonl.gz" "$(dirname "$labelled")"
fi

if run_stage 5; then
  if [ -n "$pretrained_s2p" ]; then
    log "Stage 5: using the pretrained multilingual S2P $pretrained_s2p"
  else
    log "Stage 5: multilingual phoneme CTC pretraining on $(pretrain_languages | xargs)"
    # shellcheck disable=SC2046  # one language per word
    train_model s2p_pretrain exp/s2p_pretrain tokenizer_dir=data/lang_phone \
      "data.train=$(manifest_list train $(pretrain_languages))" "data.dev=$(manifest_list dev $(pretrain_languages))"
  fi
fi

if run_stage 6; then
  log "Stage 6: crosslingual phoneme fine-tuning on the ~$subset_minutes-minute labelled subset"
  train_model s2p_ft_phone exp/s2p_ft_phone "tokenizer_dir=$phone_lang" "data.train=$labelled" \
    "$target_dev" "init.checkpoint=$s2p_init"
fi

if run_stage 7; then
  log "Stage 7: baselines on the full training set: subword ($text_units) CTC FT, and phoneme FT with all labels"
  train_model "${side_by_side[@]}" s2p_ft_text exp/s2p_ft_text "tokenizer_dir=$text_lang" "$target_train" "$target_dev" \
    "init.checkpoint=$s2p_init"
  train_model "${side_by_side[@]}" s2p_ft_phone_full exp/s2p_ft_phone_full "tokenizer_dir=$phone_lang" \
    "$target_train" "$target_dev" "init.checkpoint=$s2p_init"
  wait_background
fi

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
  decode_s2p s2p_ft_text exp/s2p_ft_text wer
fi

if run_stage 9; then
  log "Stage 9: SPG init: P2G and G2P trained from scratch on the 10-min S2P's hypotheses of the training set"
  make_spg_pairs s2p_ft_phone exp/s2p_ft_phone spg  # data/pairs/spg_{train,dev}.tsv
  train_p2g_g2p "$phone_lang" spg exp/p2g_init exp/g2p_init
fi

if run_stage 10; then
  log "Stage 10: JSA training of S2P, P2G and G2P (phonemes as latent variables, G2P proposals)"
  train_jsa exp/jsa
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
  train_model p2g_aug exp/p2g_aug "${p2g_tokenizers[@]}" data.train=data/pairs/aug_train.tsv \
    data.dev=data/pairs/aug_dev.tsv
fi

if run_stage 12; then
  log "Stage 12: S2P -> P2G decoding without LM: SPG init, JSA-SPG, JSA-SPG + P2G augmentation"
  decode_s2p_p2g spg_init s2p_ft_phone exp/p2g_init
  decode_jsa jsa
  decode_s2p_p2g jsa_aug jsa exp/p2g_aug
  score_per spg_init s2p_ft_phone  # the S2P of each system, so the table shows PER beside WER
  score_per jsa_aug jsa
  # The ceiling of the P2G side: the augmented P2G reading the TRUE phonemes (a perfect S2P)
  for set in $test_sets; do
    steps/oracle_decode.sh "$fbank/cuts_$set.jsonl.gz" "exp/oracle_phonemes/decode_$set"
  done
  decode_s2p_p2g oracle_phonemes_p2g oracle_phonemes exp/p2g_aug
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
  train_model p2g_lda exp/p2g_lda "${p2g_tokenizers[@]}" data.train=data/pairs/lda_train.tsv \
    data.dev=data/pairs/lda_dev.tsv
  decode_s2p_p2g jsa_lda jsa exp/p2g_lda
fi

if run_stage 14; then
  log "Stage 14: word $lm_order-gram LMs of the $target_lang training transcripts (+ $lda_text), decoding graphs"
  [ -f "$lda_text" ] || die "no text-only data $lda_text for the adaptation LM (set lda_text in conf/recipe.conf)"
  mkdir -p "$lm_dir" "$lda_lm_dir"
  eval_texts=""
  for split in train $lm_sets; do  # the Kaldi text of stage 1: the same normalised text as the references
    cut -d' ' -f2- "data/kaldi/$target_lang/$split/text" >"$lm_dir/text_$split.txt"
    # words of the phone-level decodings, by cut id (Kaldi's utterance ids are <speaker>-<cut id>)
    awk 'NR == FNR { spk[$1] = $2; next }
         { utt = substr($1, length(spk[$1]) + 2); $1 = ""; print utt "\t" substr($0, 2) }' \
      "data/kaldi/$target_lang/$split/utt2spk" "data/kaldi/$target_lang/$split/text" >"$lm_dir/ref_$split.txt"
    [ "$split" = train ] || eval_texts+=" $split=$lm_dir/text_$split.txt"
  done
  steps/make_lm.sh --order "$lm_order" --results exp/results.tsv --eval-texts "$eval_texts" "$lm_dir" \
    "$lm_dir/text_train.txt"
  steps/make_graph.sh "$text_lang" "$lm_dir/lm.arpa" exp/graph_text                  # words in text units: TLG
  steps/make_graph.sh --lexicon g2p --g2p exp/jsa/final.pt --g2p-model g2p \
    "$phone_lang" "$lm_dir/lm.arpa" exp/graph_phone_g2p                               # lexicon-free: JSA's G2P
  steps/make_graph.sh --lexicon "$lm_lexicon" "$phone_lang" "$lm_dir/lm.arpa" exp/graph_phone_lexicon  # upper bound
  # the paper's LDA baseline fuses the same adaptation text as an LM: in the transcripts' form, beside them
  python -m phonasr.bin.normalise_text --lang "$target_lang" "$lda_text" "$lda_lm_dir/text_lda.txt"
  steps/make_lm.sh --order "$lm_order" --results exp/results.tsv --system lm_lda --eval-texts "$eval_texts" \
    "$lda_lm_dir" "$lm_dir/text_train.txt" "$lda_lm_dir/text_lda.txt"
  steps/make_graph.sh "$text_lang" "$lda_lm_dir/lm.arpa" exp/graph_text_lda          # its TLG
fi

if run_stage 15; then
  log "Stage 15: WFST decoding with the LM (weights chosen on dev): subword FT, the P2G systems, phone level"
  # The no-LM decodings whose saved log-posteriors are decoded (stages 8-12; dev too, where test_sets lacks it)
  test_sets=$lm_sets decode_s2p s2p_ft_text exp/s2p_ft_text wer
  test_sets=$lm_sets decode_s2p s2p_ft_phone_full exp/s2p_ft_phone_full per
  test_sets=$lm_sets decode_s2p jsa exp/jsa per --model-name s2p
  test_sets=$lm_sets decode_s2p_p2g spg_init s2p_ft_phone exp/p2g_init
  test_sets=$lm_sets decode_s2p_p2g jsa jsa exp/jsa --model-name p2g
  test_sets=$lm_sets decode_s2p_p2g jsa_aug jsa exp/p2g_aug
  test_sets=$lm_sets decode_s2p_p2g jsa_lda jsa exp/p2g_lda
  decode_lm s2p_ft_text_lm exp/graph_text exp/s2p_ft_text/decode_SET          # the paper's strongest baseline
  decode_lm spg_init_lm exp/graph_text exp/spg_init/decode_p2g_SET          # S2P 1-best -> P2G -> TLG
  decode_lm jsa_lm exp/graph_text exp/jsa/decode_p2g_SET
  decode_lm jsa_aug_lm exp/graph_text exp/jsa_aug/decode_p2g_SET
  # phonemes -> words, without a human lexicon; and the upper bound with one (scored against words, not phonemes)
  decode_lm jsa_phone_g2p_lm exp/graph_phone_g2p exp/jsa/decode_SET --ref "$lm_dir/ref_SET.txt"
  decode_lm s2p_ft_phone_full_lexicon_lm exp/graph_phone_lexicon exp/s2p_ft_phone_full/decode_SET \
    --ref "$lm_dir/ref_SET.txt"
  # language-domain adaptation, the paper's comparison: the subword baseline fused with an LM of the adaptation
  # text, against JSA-SPG + LDA (its P2G fine-tuned on that text) through the same LM
  decode_lm s2p_ft_text_lda_lm exp/graph_text_lda exp/s2p_ft_text/decode_SET
  decode_lm jsa_lda_lm exp/graph_text_lda exp/jsa_lda/decode_p2g_SET
fi

if run_stage 16; then
  log "Stage 16: marginal-likelihood scoring of the LM n-best (MLS, $mls_samples G2P samples per hypothesis)"
  rescore_mls spg_init exp/p2g_init s2p_ft_phone --g2p-checkpoint exp/g2p_init
  rescore_mls jsa exp/jsa jsa
  rescore_mls jsa_aug exp/p2g_aug jsa --g2p-checkpoint exp/jsa
  rescore_mls jsa_phone_g2p exp/jsa jsa  # the lexicon-free phone-level n-best, scored by the same JSA models
  lm_dir=$lda_lm_dir rescore_mls jsa_lda exp/p2g_lda jsa --g2p-checkpoint exp/jsa  # λ on the adaptation LM
fi

if run_stage 17; then
  log "Stage 17: pack JSA-SPG + P2G augmentation (JSA S2P and G2P, augmented P2G) into exp/jsa_aug/model"
  graph_opts=()  # the lexicon-free phone-level graph of stages 14-15, for `phonasr transcribe --decoder lm`
  weight_file=exp/jsa_phone_g2p_lm/lmwt/weight.txt
  if [ -f exp/graph_phone_g2p/HLG.fst ] && [ -f "$weight_file" ]; then
    if awk '{ exit !($1 > 0) }' "$weight_file"; then
      graph_opts=(--graph exp/graph_phone_g2p --lm-weight-file "$weight_file")
    else  # a search needs λ > 0: re-ranking at 0 (the LM's costs ignored) won on dev, so the LM does not help
      log "jsa_phone_g2p_lm chose LM weight 0 on dev: the model is packed without the LM graph"
    fi
  fi
  steps/pack_model.sh --language "$target_lang" --g2p exp/jsa/final.pt:g2p "${graph_opts[@]}" \
    --fbank-config "$fbank/fbank_train.config.yaml" --results exp/results.tsv --results-systems jsa_aug,jsa \
    --description "JSA-SPG recipe $(basename "$recipe_dir"): ~$subset_minutes minutes of phoneme labels" \
    jsa_aug exp/jsa/final.pt:s2p exp/p2g_aug/final.pt exp/jsa_aug/model
fi

if run_stage 18; then
  log "Stage 18: exp/RESULTS.md (the paper's table, significance tests) and its plots in exp/RESULTS_plots/"
  utils/make_report.sh exp
fi

if [ "$controls" = true ] && run_stage 19; then
  log "Stage 19: controls and ablations ($control_systems), each a system control_<name>"
  # What JSA's three models got in stage 10: this many updates, with this optimiser and schedule
  jsa_steps=$(trained_setting exp/jsa train.max_steps)
  jsa_epochs=$(trained_setting exp/jsa train.max_epochs)
  [ "$jsa_steps" -gt 0 ] || die "exp/jsa ran without train.max_steps: the controls match its updates, so set one"
  # (an epoch makes at least one update, so the step limit ends these trainings)
  as_long_as_jsa=("train.max_steps=$jsa_steps" "train.max_epochs=$jsa_steps" train.early_stop_patience=0
                  "optim=$(trained_setting exp/jsa optim)" "schedule=$(trained_setting exp/jsa schedule)")
  for control in $control_systems; do
    system=control_$control
    case $control in
      s2p_longer)
        log "$system: exp/s2p_ft_phone fine-tuned $jsa_steps more updates on the labelled subset, without JSA"
        train_model s2p_ft_phone "exp/$system" "tokenizer_dir=$phone_lang" "data.train=$labelled" "$target_dev" \
          init.checkpoint=exp/s2p_ft_phone/final.pt "${as_long_as_jsa[@]}"
        decode_s2p "$system" "exp/$system" per
        decode_s2p_p2g "$system" "$system" exp/p2g_init
        ;;
      p2g_longer)
        log "$system: SPG init's P2G and G2P trained $jsa_steps more updates on the SPG pairs, without JSA"
        train_p2g_g2p --init exp/p2g_init/final.pt exp/g2p_init/final.pt "$phone_lang" spg "exp/$system" \
          "exp/${system}_g2p" "${as_long_as_jsa[@]}"
        decode_s2p_p2g "$system" s2p_ft_phone "exp/$system"
        score_per "$system" s2p_ft_phone
        ;;
      reference_jsa)
        log "$system: JSA with the reference's approximations, exp/jsa's steps and seed"
        train_jsa "exp/$system" jsa.weights=length_normalised jsa.cache=restart jsa.score_mode=train \
          jsa.proposal_s2p_weight=0 jsa.new_chain_start=proposal "train.max_steps=$jsa_steps" \
          "seed=$(trained_setting exp/jsa seed)"
        decode_jsa "$system"
        score_jsa_cache "$system"
        score_jsa_cache jsa
        ;;
      jsa_long)
        log "$system: JSA $controls_jsa_epochs times as long as exp/jsa, no early stop"
        train_jsa "exp/$system" "train.max_steps=$(( jsa_steps * controls_jsa_epochs ))" \
          "train.max_epochs=$(( jsa_epochs * controls_jsa_epochs ))" train.early_stop_patience=0
        decode_jsa "$system"
        score_jsa_cache "$system"
        ;;
      jsa_zero_labels)
        log "$system: SPG init from the multilingual S2P $s2p_init's pseudo-labels, then JSA without phoneme labels"
        make_spg_pairs "${system}_init" "$s2p_init" zero_labels  # data/pairs/zero_labels_{train,dev}.tsv
        train_p2g_g2p "$multi_phone_lang" zero_labels "exp/${system}_p2g_init" "exp/${system}_g2p_init"
        train_jsa "exp/$system" "tokenizers.phone=$multi_phone_lang" "init.s2p=$s2p_init" \
          "init.p2g=exp/${system}_p2g_init/final.pt" "init.g2p=exp/${system}_g2p_init/final.pt" jsa.labelled=null \
          jsa.labelled_weight=1
        decode_jsa "$system"
        score_jsa_cache "$system"
        ;;
      *) die "unknown control '$control' in --control-systems (known: s2p_longer p2g_longer reference_jsa" \
           "jsa_long jsa_zero_labels)" ;;
    esac
  done
fi

mkdir -p exp
stage_times exp/stage_times.tsv
if [ -f exp/results.tsv ]; then
  log "results so far (exp/results.tsv)"
  utils/show_results.sh exp/results.tsv
fi
