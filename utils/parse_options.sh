# shellcheck shell=bash
# Kaldi-compatible option parsing. Source it (do not run it) after declaring defaults:
#   stage=0; use_gpu=false; . utils/parse_options.sh
# Rules users rely on:
#   --foo-bar VALUE sets $foo_bar, and only if foo_bar is already defined (else: invalid option).
#   A variable whose default is true/false accepts only true or false.
#   --config FILE is sourced before the other options, so the command line wins over it.
#   --help / -h prints $help_message and exits 0. --foo=bar is rejected. Positional args stay in "$@".
#   Options stop at the first argument that does not start with --, or after "--".
#   --config FILE reads any readable file, a process substitution included: --config <(echo stage=3).
#   A script with a $cmd (job launcher) refuses to run with it empty: an unset $train_cmd passed as --cmd
#   "$train_cmd" would otherwise fail much later as "JOB=1:4: command not found".
# Where this differs from Kaldi's utils/parse_options.sh, on purpose: --help prints to stdout (Kaldi: stderr)
# so that `script --help | less` works; "--" ends the options, and a missing value or a malformed name gets its
# own error message (Kaldi's script fails on them with bash errors); values are taken literally (Kaldi's eval
# expands $VAR and `cmd` inside them); --config is only looked for among the options (Kaldi also sources one
# standing after a positional argument).

_po_script=${0##*/}

# --config files first, wherever they stand among the options.
_po_i=1
while [ "$_po_i" -le $# ]; do
  _po_arg=${!_po_i}
  case $_po_arg in
    --config)
      _po_j=$((_po_i + 1))
      if [ "$_po_j" -gt $# ]; then
        echo "$_po_script: --config needs a file name" >&2; exit 1
      fi
      _po_file=${!_po_j}
      # -r, not -f: a process substitution (/dev/fd/N) is a pipe, not a regular file.
      if [ ! -r "$_po_file" ] || [ -d "$_po_file" ]; then
        echo "$_po_script: config file '$_po_file' does not exist or is not readable" >&2; exit 1
      fi
      # shellcheck disable=SC1090
      . "$_po_file" || { echo "$_po_script: error sourcing config file '$_po_file'" >&2; exit 1; }
      _po_i=$((_po_i + 2)) ;;
    --) break ;;
    --*) _po_i=$((_po_i + 2)) ;;
    *) break ;;
  esac
done

while true; do
  [ $# -eq 0 ] && break
  case "$1" in
    --help|-h)
      if [ -z "${help_message:-}" ]; then
        echo "$_po_script: no help found (set \$help_message before sourcing parse_options.sh)" >&2
      else
        printf '%s\n' "$help_message"
      fi
      exit 0 ;;
    --)
      shift; break ;;
    --config)
      shift 2 ;;
    --*=*)
      echo "$_po_script: options take the form '--name value', not '$1'" >&2; exit 1 ;;
    --*)
      _po_name=${1#--}
      _po_name=${_po_name//-/_}
      # Only names of ordinary shell variables that already exist; a name starting with a digit would make
      # ${!name} read a positional parameter ($1) instead.
      case $_po_name in
        ''|[0-9]*|*[!a-zA-Z0-9_]*) echo "$_po_script: invalid option $1" >&2; exit 1 ;;
      esac
      if [ -z "${!_po_name+set}" ]; then
        echo "$_po_script: invalid option $1 (no variable $_po_name to set)" >&2; exit 1
      fi
      if [ $# -lt 2 ]; then
        echo "$_po_script: option $1 needs a value" >&2; exit 1
      fi
      _po_old=${!_po_name}
      if { [ "$_po_old" = true ] || [ "$_po_old" = false ]; } && [ "$2" != true ] && [ "$2" != false ]; then
        echo "$_po_script: option $1 takes true or false, not '$2'" >&2; exit 1
      fi
      printf -v "$_po_name" '%s' "$2"
      shift 2 ;;
    *) break ;;
  esac
done

if [ -n "${cmd+set}" ] && [ -z "$cmd" ]; then
  echo "$_po_script: empty argument to --cmd option (is the variable given to --cmd set? see the recipe's cmd.sh)" >&2
  exit 1
fi

unset _po_i _po_j _po_arg _po_file _po_name _po_old _po_script
true
