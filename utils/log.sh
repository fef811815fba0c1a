# shellcheck shell=bash
# Shared shell helpers for recipes and steps; source it.
#   log MSG...            print "YYYY-mm-dd HH:MM:SS (file:line:function) MSG" to stderr
#   die MSG...            log MSG and exit 1
#   stage_done DIR NAME   true when DIR/.NAME.done exists (finished earlier: skip the work)
#   mark_done DIR NAME    write DIR/.NAME.done after the work succeeded
# A stage that was killed half-way has no .done marker, so a rerun redoes it from the start.

log() { _log_line "$*"; }

die() { _log_line "ERROR: $*"; exit 1; }

# Prints MSG with the location of whoever called log/die (two frames up from here). printf '%s', not echo -e:
# messages carry paths and commands whose backslashes must reach the log as they are.
_log_line() {
  local src=${BASH_SOURCE[2]:-bash}
  printf '%s (%s:%s:%s) %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "${src##*/}" "${BASH_LINENO[1]:-0}" \
    "${FUNCNAME[2]:-main}" "$1" >&2
}

stage_done() { [ -f "$1/.$2.done" ]; }

mark_done() { mkdir -p "$1" && date '+%Y-%m-%d %H:%M:%S' >"$1/.$2.done"; }
