#!/usr/bin/env bash
# The test command (README): unit tests, sandbox tests on real kernel state, scenarios.
# Extra arguments go to pytest. Exit code is pytest's (5 = no tests collected).
# Two pytest-xdist workers (-n 2: about twice as fast on two cores, the clusters mostly
# wait); each worker keeps its sandbox state in $CNISCRUB_LAB_HOME-gwN (harness.plugin).
# `-n 0` as an extra argument runs in one process.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >/dev/null || exit 1
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest -p no:cacheprovider -q -n 2 "$@"
