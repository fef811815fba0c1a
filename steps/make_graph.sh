#!/usr/bin/env bash
# Decoding graph HLG = H (CTC topology) ∘ L (lexicon) ∘ G (word n-gram) for steps/decode_wfst.sh. Skipped when done.
set -euo pipefail

lexicon=spelling
g2p=""
g2p_model=""
g2p_nbest=2
max_states=20000000
device=auto
help_message="Usage: $0 [options] <token-lang-dir> <lm.arpa> <out-dir>
 e.g.: $0 data/lang_bpe500_pl data/lm_pl/lm.arpa exp/graph_bpe500_pl                        # BPE TLG
       $0 --lexicon g2p --g2p exp/jsa/final.pt data/lang_phone_pl data/lm_pl/lm.arpa exp/graph_phone_g2p
       $0 --lexicon espeak data/lang_phone_pl data/lm_pl/lm.arpa exp/graph_phone_espeak
Writes, under <out-dir>: HLG.fst, words.txt, graph.yaml (token lang dir, states, arcs, build seconds).
Options:
  --lexicon spelling|g2p|espeak|FILE
                          how L spells the LM's words: in the text tokens (BPE pieces or characters), the learned
                          G2P's pronunciations, espeak-ng's, or a word<TAB>phonemes file (default: $lexicon)
  --g2p CHECKPOINT        G2P (token task) or JSA final.pt, for --lexicon g2p
  --g2p-model NAME        model inside --g2p (default: g2p, else its only one)
  --g2p-nbest N           weighted pronunciations per word from the G2P (default: $g2p_nbest)
  --max-states N          determinization stops with an error past this many states (default: $max_states)
  --device DEV            for the G2P: auto, cpu, cuda (default: $device)"

. utils/log.sh
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi
lang_dir=$1
arpa=$2
out_dir=$3

[ -f "$lang_dir/tokenizer.yaml" ] || die "$lang_dir is not a lang dir (no tokenizer.yaml); run steps/make_lang.sh"
[ -f "$arpa" ] || die "LM $arpa does not exist; run steps/make_lm.sh"
case $lexicon in
  spelling|espeak) ;;
  g2p) [ -f "$g2p" ] || die "--lexicon g2p needs --g2p <checkpoint>, got '$g2p'" ;;
  *) [ -f "$lexicon" ] || die "lexicon file $lexicon does not exist (or use --lexicon spelling|g2p|espeak)" ;;
esac

if stage_done "$out_dir" make_graph; then
  log "graph in $out_dir already built; skipping (remove $out_dir/.make_graph.done to redo)"
  exit 0
fi

opts=(--lexicon "$lexicon" --g2p-nbest "$g2p_nbest" --max-states "$max_states" --device "$device")
[ -n "$g2p" ] && opts+=(--g2p "$g2p")
[ -n "$g2p_model" ] && opts+=(--g2p-model "$g2p_model")
log "building HLG of $arpa over $lang_dir (lexicon: $lexicon) into $out_dir"
python -m phonasr.bin.make_graph "${opts[@]}" "$lang_dir" "$arpa" "$out_dir"
mark_done "$out_dir" make_graph
