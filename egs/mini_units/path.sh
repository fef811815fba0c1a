# shellcheck shell=bash
# Recipe environment: everything comes from the toolkit's top-level path.sh (which installs on first use).
# Resolved through symlinks: an output dir (--dir X, quick/) links this file, and its jobs source ./path.sh.
# shellcheck source=../../path.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../path.sh"
