# shellcheck shell=bash
# Stage selection for recipes. Source it after utils/parse_options.sh and utils/log.sh: it checks that $stage and
# $stop_stage are whole numbers (a typo would otherwise make every stage test false and the recipe do nothing) and
# defines
#   run_stage N          true when stage N lies within --stage .. --stop-stage; a selected stage's wall time is
#                        counted until the next selected stage starts (or stage_times is called)
#   stage_times [FILE]   log how long each stage that ran took; with FILE also append "stage<TAB>seconds<TAB>when"
#   in_background CMD..  start CMD in the background: a stage's independent jobs side by side (two small
#                        trainings of one thread each finish nearly twice as fast on two cores as one after the other)
#   wait_background      wait for every command in_background started; fail, once all have ended, if any failed
# shellcheck disable=SC2154  # stage and stop_stage are the recipe's options
for _stage_option in "$stage" "$stop_stage"; do
  [[ $_stage_option =~ ^[0-9]+$ ]] || die "--stage and --stop-stage take whole numbers, got '$_stage_option'"
done
unset _stage_option

_stage_current=""
_stage_started=0
_stage_seconds=()
run_stage() {
  [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ] || return 1
  _stage_close
  _stage_current=$1
  _stage_started=$SECONDS
}

_stage_close() {
  [ -n "$_stage_current" ] || return 0
  _stage_seconds+=("$_stage_current $(( SECONDS - _stage_started ))")
  _stage_current=""
}

stage_times() {
  local file=${1:-} entry name seconds total=0 summary="" finished
  _stage_close
  [ ${#_stage_seconds[@]} -gt 0 ] || return 0
  finished=$(date '+%Y-%m-%d %H:%M:%S')
  for entry in "${_stage_seconds[@]}"; do
    read -r name seconds <<<"$entry"
    total=$(( total + seconds ))
    summary+="$name:${seconds}s "
    [ -z "$file" ] || printf '%s\t%s\t%s\n' "$name" "$seconds" "$finished" >>"$file"
  done
  log "wall time per stage: ${summary}(total ${total} s)"
}

_background_pids=()
in_background() {
  # Commands started with & in a script ignore SIGINT, so an interrupted recipe stops them itself. Each runs in
  # a process group of its own (setsid), and the whole group gets TERM: the launchers' Python workers too (a
  # training resumes from last.pt on the next run), but nothing outside the recipe that shares its group.
  [ ${#_background_pids[@]} -gt 0 ] || trap '_stop_background; exit 130' INT TERM
  setsid "$@" &
  _background_pids+=("$!")
}

_stop_background() {
  local pid
  trap - INT TERM
  for pid in "${_background_pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  log "interrupted: stopped the ${#_background_pids[@]} jobs running side by side"
}

wait_background() {
  local pid failed=0
  for pid in "${_background_pids[@]}"; do
    wait "$pid" || failed=$((failed + 1))
  done
  _background_pids=()
  trap - INT TERM
  [ "$failed" -eq 0 ] || die "$failed of the jobs run side by side failed; see their errors above"
}
