# shellcheck shell=bash
# Decoding and scoring helpers for recipes. Source it after utils/log.sh, with the recipe's cmd.sh ($decode_cmd)
# and path.sh sourced; run from the recipe's output root. They read the recipe's settings
#   nj (CPU cores), decode_nbest (hypotheses kept per utterance), test_sets ("dev test"), fbank (the target's
#   feature dir, data/fbank/<target>), labelled (the phoneme-labelled subset's manifest)
# and write exp/SYSTEM/decode_* plus results rows in exp/results.tsv (steps/score.sh).
#   decode_jobs CUTS                      "JOBS THREADS" for decoding a manifest
#   decode_set SYSTEM CHECKPOINT CUTS NAME REF_FIELD [decode options]
#   score_dir SYSTEM DECODE_DIR TEST_SET METRIC...
#   decode_s2p SYSTEM CHECKPOINT per|wer [decode options]
#   decode_s2p_p2g SYSTEM S2P_DECODE_SYSTEM P2G_CHECKPOINT [decode_p2g options]
#   score_per SYSTEM S2P_SYSTEM
#   decode_jsa SYSTEM                     a JSA run exp/SYSTEM: its S2P (PER), and its S2P -> its P2G (WER/CER)
#   score_jsa_cache SYSTEM                PER of exp/SYSTEM's JSA sample cache vs the true phonemes (train_unlabelled)
#   decode_lm SYSTEM GRAPH_DIR IN_DIR_WITH_SET [decode_wfst options, SET replaced too]
#                                                 WFST decoding of lm_sets, LM weight chosen on dev, test rows
#   rescore_mls SYSTEM P2G S2P_SYSTEM [mls options]   MLS of exp/SYSTEM_lm's n-best, weight chosen on dev
# (the LM ones also read lm_dir, lm_sets, lm_nbest, lm_weights, mls_samples; rescore_mls also seed: the recipe's
# --seed, empty for steps/mls_rescore.sh's default, since its G2P samples are random draws too)
# shellcheck disable=SC2154  # the settings above are the recipe's

# decode_jobs CUTS: a job per 500 utterances, at most --nj, sharing --nj threads, since a job's start (~3 s) costs
# more than decoding a small set and jobs x threads beyond the cores slow every job down several times.
decode_jobs() {
  local n
  n=$(gzip -dc "$1" | wc -l)
  n=$(( (n + 499) / 500 ))
  n=$(( n < 1 ? 1 : (n > nj ? nj : n) ))
  echo "$n $(( nj / n > 1 ? nj / n : 1 ))"
}

# decode_set: S2P beam search into exp/SYSTEM/decode_NAME, keeping the n-best and the log-posteriors that
# WFST/LM decoding and marginal-likelihood rescoring read later.
decode_set() {
  local system=$1 model=$2 cuts=$3 name=$4 ref_field=$5 jobs threads
  shift 5
  read -r jobs threads < <(decode_jobs "$cuts")
  steps/decode_ctc.sh --cmd "$decode_cmd" --nj "$jobs" --num-threads "$threads" --ref-field "$ref_field" \
    --nbest "$decode_nbest" --save-logprobs true "$@" "$model" "$cuts" "exp/$system/decode_$name"
}

# score_dir: a results row per metric from DECODE_DIR's ref.txt and hyp.txt
score_dir() {
  local system=$1 dir=$2 set=$3 metric
  shift 3
  for metric in "$@"; do
    steps/score.sh --metric "$metric" --system "$system" --test-set "$set" "$dir/ref.txt" "$dir/hyp.txt" "$dir"
  done
}

# decode_s2p: the target's test sets, PER of phoneme models, or WER and CER of subword models
decode_s2p() {
  local system=$1 model=$2 metric=$3 set
  shift 3
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

# decode_s2p_p2g: words from the S2P's 1-best phonemes (decoded as S2P_DECODE_SYSTEM) through the P2G
decode_s2p_p2g() {
  local system=$1 s2p=$2 p2g=$3 set
  shift 3
  for set in $test_sets; do
    steps/decode_p2g.sh --cuts "$fbank/cuts_$set.jsonl.gz" --nbest "$decode_nbest" --save-logprobs true "$@" \
      "$p2g" "exp/$s2p/decode_$set" "exp/$system/decode_p2g_$set"
    score_dir "$system" "exp/$system/decode_p2g_$set" "$set" wer cer
  done
}

# score_per: PER rows for a system whose S2P was decoded (and scored) as S2P_SYSTEM
score_per() {
  local set
  for set in $test_sets; do
    score_dir "$1" "exp/$2/decode_$set" "$set" per
  done
}

# decode_jsa: the two readings of a JSA run's models without an LM, as stage 12 makes them for exp/jsa
decode_jsa() {
  decode_s2p "$1" "exp/$1" per --model-name s2p
  decode_s2p_p2g "$1" "$1" "exp/$1" --model-name p2g
}

# score_jsa_cache: the latent phonemes a JSA run ends with, i.e. its chains' last states (the sample cache of
# exp/SYSTEM/last.pt, phonasr.bin.jsa_cache), scored against the true phonemes of the cached training utterances
# outside the labelled subset (whose S2P/G2P targets are the truth anyway): the results row SYSTEM train_unlabelled
# PER, from exp/SYSTEM/cache_train_unlabelled/{hyp,ref}.txt. Where the subset is the whole training set (the quick
# corpus), nothing is left: the row is then SYSTEM train PER, over every cached utterance.
score_jsa_cache() {
  local system=$1 truth=exp/oracle_phonemes/decode_train set dir exclude
  steps/oracle_decode.sh "$fbank/cuts_train.jsonl.gz" "$truth"
  for set in train_unlabelled train; do
    dir=exp/$system/cache_$set
    if ! stage_done "$dir" cache; then
      exclude=()
      [ "$set" = train ] || exclude=(--exclude "$labelled")
      mkdir -p "$dir"
      python -m phonasr.bin.jsa_cache "${exclude[@]}" "exp/$system/last.pt" "$dir/hyp.txt" >&2 \
        || die "cannot read the sample cache of exp/$system/last.pt"
      awk -F'\t' 'NR == FNR { cached[$1]; next } $1 in cached' "$dir/hyp.txt" "$truth/ref.txt" >"$dir/ref.txt"
      mark_done "$dir" cache
    fi
    if [ -s "$dir/ref.txt" ]; then
      score_dir "$system" "$dir" "$set" per
      return 0
    fi
    log "exp/$system's sample cache holds no utterance outside the labelled subset $labelled"
  done
  die "exp/$system's sample cache holds no utterance of $fbank/cuts_train.jsonl.gz"
}

# tune_lm SYSTEM KIND: the LM weight of exp/SYSTEM/decode_* (wfst|mls) chosen on dev, the other sets re-ranked at
# it into exp/SYSTEM/lmwt/SET, and a results row per test set
tune_lm() {
  local system=$1 kind=$2 set apply=()
  for set in $test_sets; do
    [ "$set" = dev ] || apply+=("$set=exp/$system/decode_$set")
  done
  steps/tune_lm_weight.sh --kind "$kind" --weights "$lm_weights" "exp/$system/decode_dev" "exp/$system/lmwt" \
    "${apply[@]}"
  for set in $test_sets; do
    score_dir "$system" "exp/$system/lmwt/$set" "$set" wer cer
  done
}

# decode_lm: the saved log-posteriors of IN_DIR (SET standing for each of lm_sets) through GRAPH_DIR's HLG into
# exp/SYSTEM/decode_SET, an n-best with split LM/acoustic costs from which tune_lm picks the weight
decode_lm() {
  local system=$1 graph=$2 template=$3 set in jobs
  shift 3
  for set in $lm_sets; do
    in=${template//SET/$set}
    # a job per 50 utterances, at most --nj: a job's start (~4 s) outweighs decoding a few utterances
    jobs=$(( ($(wc -l <"$in/ref.txt") + 49) / 50 ))
    jobs=$(( jobs < 1 ? 1 : (jobs > nj ? nj : jobs) ))
    steps/decode_wfst.sh --cmd "$decode_cmd" --nj "$jobs" --nbest "$lm_nbest" --beam "$lm_beam" \
      --lattice-beam "$lm_lattice_beam" "${@//SET/$set}" "$in" "$graph" "exp/$system/decode_$set"
  done
  tune_lm "$system" wfst
}

# rescore_mls: MLS of SYSTEM's TLG n-best (exp/SYSTEM_lm) with the P2G of P2G, the S2P posteriors decoded as
# S2P_SYSTEM and the LM, into exp/SYSTEM_mls
rescore_mls() {
  local system=$1 p2g=$2 s2p=$3 set
  shift 3
  for set in $lm_sets; do
    steps/mls_rescore.sh --num-samples "$mls_samples" --nbest "$lm_nbest" ${seed:+--seed "$seed"} "$@" "$p2g" \
      "exp/${system}_lm/decode_$set" "exp/$s2p/decode_$set" "$lm_dir/lm.arpa" "exp/${system}_mls/decode_$set"
  done
  tune_lm "${system}_mls" mls
}
