# shellcheck shell=bash
# Puts phonasr's environment on PATH; recipes' path.sh files source this one.
# On first use (or when requirements change) it runs utils/install.sh, so a fresh clone sets itself up.
# readlink -f: the file may be reached through a symlink (a recipe's output dir links its path.sh).
PHONASR_ROOT=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
export PHONASR_ROOT
_phonasr_want=$(cat "$PHONASR_ROOT/requirements/base.txt" "$PHONASR_ROOT/requirements/constraints.txt" \
  "$PHONASR_ROOT/setup.py" | sha256sum | cut -c1-16)
if [ "$(cat "$PHONASR_ROOT/.venv/.phonasr-stamp" 2>/dev/null)" != "$_phonasr_want" ]; then
  bash "$PHONASR_ROOT/utils/install.sh" ${PHONASR_INSTALL_OPTS:-} || return 1 2>/dev/null || exit 1
fi
unset _phonasr_want
export PATH=$PHONASR_ROOT/.venv/bin:$PHONASR_ROOT/utils:$PATH
export PYTHONPATH=$PHONASR_ROOT${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1 PYTHONUTF8=1 PYTHONIOENCODING=utf-8
export LC_ALL=C
