# shellcheck shell=bash
# Shared shell helpers for recipes and steps; source it.
#   log MSG...            print "YYYY-mm-dd HH:MM:SS (file:line:function) MSG" to stderr
#   die MSG...            log MSG and exit 1
#   stage_done DIR NAME   true when DIR/.NAME.done exists (finished earlier: skip the work)
#   mark_done DIR NAME    write DIR/.NAME.done after the work succeeded
# A stage that was killed half-way has no .done marker, so a rerun redoes it from the start.

log() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%d %H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]:-main}) $*" >&2
}

die() {
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%d %H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]:-main}) ERROR: $*" >&2
  exit 1
}

stage_done() { [ -f "$1/.$2.done" ]; }

mark_done() { mkdir -p "$1" && date '+%Y-%m-%d %H:%M:%S' >"$1/.$2.done"; }
