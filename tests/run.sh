#!/usr/bin/env bash
# The test command of the README: sets the machine up on first use (utils/install.sh through path.sh, plus
# the k2 environment), then runs the suite in .venv and the k2 tests in .venv-k2.
#   bash tests/run.sh [pytest args...]      e.g. bash tests/run.sh -x tests/ctc
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. ./path.sh
. utils/log.sh

# The installer's own staleness test (its stamp hashes requirements/k2.txt and setup.py), so that a pin added to
# requirements/k2.txt reaches an existing .venv-k2 without running the whole installer every time.
k2_want=$(cat requirements/k2.txt setup.py | sha256sum | cut -c1-16)
[ -x .venv-k2/bin/python ] && [ "$(cat .venv-k2/.phonasr-stamp 2>/dev/null)" = "$k2_want" ] ||
  bash utils/install.sh --k2 true

start=$(date +%s)
log "pytest in .venv ($(python --version 2>&1))"
python -m pytest -q --durations=12 "$@"
if [ $# -eq 0 ]; then
  log "k2 tests in .venv-k2 ($(.venv-k2/bin/python --version 2>&1))"
  PHONASR_REQUIRE_K2=1 .venv-k2/bin/python -m pytest -q -p no:cacheprovider tests/k2
fi
log "tests finished in $(( $(date +%s) - start )) s"
