# shellcheck shell=bash
# Recipe environment: everything comes from the toolkit's top-level path.sh (which installs on first use).
# shellcheck source=../../path.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/path.sh"
