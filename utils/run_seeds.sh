#!/usr/bin/env bash
# A recipe over several seeds: its data stages once, the seeded stages once per seed (run.sh --seed N), then the
# results over seeds (mean ± std, n) in <root>/seeds/. A single run's WER says little when two seeds differ by as
# much as two systems do; every seed starts from the same data (and the same shared models), so what differs
# between seeds is only what the seed draws.
set -euo pipefail

seeds="2025 7 11"
stage=5
stop_stage=16
dir=""
help_message="Usage: $0 [options] [run.sh options...]
 e.g.: cd egs/mini_pl && utils/run_seeds.sh --seeds \"2025 7 11\" --stage 9 --quick true --dir /tmp/seeds
Run from a recipe dir (beside its run.sh). Runs the recipe's stages 0..<stage>-1 once into the output root, then
stages <stage>..<stop-stage> with --seed N into <root>/seeds/<N>/ for each seed, and writes every seed's results
over the seeds into <root>/seeds/results_seeds.tsv and RESULTS_seeds.md (utils/make_report.sh <root>/exp also
shows them). A seed's run starts from the shared root: its data/ and exp/ are trees whose large files (checkpoints,
features, graphs) link to the root's and whose small ones (results.tsv, texts, markers) are copies, so it reads
the shared stages' outputs and writes only its own; corpus/ is a link. Logs: <root>/seeds/shared.log and
<root>/seeds/<N>/run.log. Resumable: run the same command again (a finished seed is skipped, a half-done one
resumes through the stages' own skipping of finished work). The root must hold no output of a seeded stage.
Options:
  --seeds \"N ...\"     the seeds (default: $seeds)
  --stage N           the first seeded stage; the stages before it are shared (default: $stage: everything after
                      the data; 9: the S2P models of stages 5-8 are trained once, the P2G/G2P/JSA per seed)
  --stop-stage N      the last seeded stage (default: $stop_stage)
  --dir DIR           the output root (default: run.sh's: the recipe dir, or quick/ with --quick true)
Every other option goes to run.sh as it is (--quick, --nj, --corpus-dir, ...)."

. "$(dirname "${BASH_SOURCE[0]}")/log.sh"

quick=false
run_opts=()
while [ $# -gt 0 ]; do
  case $1 in
    --help|-h) printf '%s\n' "$help_message"; exit 0 ;;
    --seed) die "--seed is set per seed here: give the seeds with --seeds \"N ...\"" ;;
    --*)
      [ $# -ge 2 ] || die "option $1 needs a value"
      case $1 in
        --seeds) seeds=$2 ;;
        --stage) stage=$2 ;;
        --stop-stage) stop_stage=$2 ;;
        --dir) dir=$2 ;;
        *) [ "$1" != --quick ] || quick=$2
           run_opts+=("$1" "$2") ;;
      esac
      shift 2 ;;
    *) die "unexpected argument '$1': run.sh takes options only (see --help)" ;;
  esac
done
[ -f run.sh ] && [ -f conf/recipe.conf ] || die "no run.sh and conf/recipe.conf here: run it from a recipe dir"
[[ $stage =~ ^[0-9]+$ ]] && [[ $stop_stage =~ ^[0-9]+$ ]] || die "--stage and --stop-stage take whole numbers"
[ "$stage" -ge 1 ] && [ "$stop_stage" -ge "$stage" ] || \
  die "--stage must be 1..--stop-stage: stage 0 builds the corpus that every seed shares"
[ -n "${seeds// }" ] || die "--seeds is empty"
for seed in $seeds; do
  [[ $seed =~ ^[0-9]+$ ]] || die "--seeds takes whole numbers, got '$seed'"
done
root=${dir:-$([ "$quick" = true ] && echo quick || echo .)}

# A root where a seeded stage already ran (e.g. the recipe's own full run) would hand its trainings to every seed,
# which would then skip them: the same numbers N times, looking like no spread at all.
if [ -f "$root/exp/stage_times.tsv" ]; then
  ran=$(awk -v s="$stage" '$1 >= s { print $1; exit }' "$root/exp/stage_times.tsv")
  [ -z "$ran" ] || die "$root already holds the outputs of stage $ran (>= --stage $stage, $root/exp/stage_times.tsv):" \
    "every seed would reuse them; use a fresh --dir"
fi

# run_logged LOG CMD...: CMD with its output appended to LOG; when it fails, LOG's last lines here, and stop
run_logged() {
  local log_file=$1
  shift
  if ! "$@" >>"$log_file" 2>&1; then
    tail -n 20 "$log_file" >&2
    die "failed: $*; see $log_file"
  fi
}

# mirror SRC DST: SRC's directory tree under DST, links to its large files (never rewritten in place: replaced
# atomically, or skipped once done) and copies of the small ones, which a seeded stage may append to or rewrite
# (results.tsv, markers, texts) and which must not change the shared root
mirror() {
  local src=$1 dst=$2 f
  [ -d "$src" ] || return 0
  mkdir -p "$dst"
  (cd "$src" && find . -type d -print0) | (cd "$dst" && xargs -0 mkdir -p)
  (cd "$src" && find . \( -type f -size -1024k -o -type l \) -exec cp -P --preserve=timestamps --parents -t "$dst" {} +)
  (cd "$src" && find . -type f ! -size -1024k -print0) | while IFS= read -r -d '' f; do
    ln -s "$src/${f#./}" "$dst/${f#./}"
  done
}

start=$SECONDS
mkdir -p "$root/seeds"
log "seeds $seeds: stages 0..$((stage - 1)) once into $root (log: $root/seeds/shared.log), then $stage..$stop_stage" \
  "per seed into $root/seeds/<N>/; run.sh options: ${run_opts[*]:-none}"
run_logged "$root/seeds/shared.log" bash run.sh --stage 0 --stop-stage $((stage - 1)) --dir "$root" "${run_opts[@]}"
shared=$(cd "$root" && pwd)
for seed in $seeds; do
  seed_dir=$shared/seeds/$seed
  if stage_done "$seed_dir" "stages_${stage}_$stop_stage"; then
    log "seed $seed: stages $stage..$stop_stage already done in $seed_dir; skipping"
    continue
  fi
  if ! stage_done "$seed_dir" seed_setup; then  # a half-made mirror is made again (nothing has run on it)
    rm -rf "$seed_dir/data" "$seed_dir/exp"
    mirror "$shared/data" "$seed_dir/data"
    mirror "$shared/exp" "$seed_dir/exp"
    rm -f "$seed_dir/exp/stage_times.tsv"  # the seed's own stage times only
    [ ! -e "$shared/corpus" ] || ln -sfn "$shared/corpus" "$seed_dir/corpus"
    mark_done "$seed_dir" seed_setup
  fi
  log "seed $seed: stages $stage..$stop_stage into $seed_dir (log: $seed_dir/run.log)"
  seed_start=$SECONDS
  run_logged "$seed_dir/run.log" bash run.sh --stage "$stage" --stop-stage "$stop_stage" --seed "$seed" \
    --dir "$seed_dir" "${run_opts[@]}"
  mark_done "$seed_dir" "stages_${stage}_$stop_stage"
  log "seed $seed done in $(( SECONDS - seed_start )) s"
done

. ./path.sh
python -m phonasr.bin.aggregate_seeds "$root/seeds"
log "results over seeds $seeds: $root/seeds/RESULTS_seeds.md, $root/seeds/results_seeds.tsv" \
  "(utils/make_report.sh $root/exp adds them to RESULTS.md); $(( SECONDS - start )) s in all"
