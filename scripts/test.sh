#!/usr/bin/env bash
# The test command (README): unit tests, sandbox tests on real kernel state, scenarios.
# Extra arguments go to pytest. Exit code is pytest's (5 = no tests collected).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >/dev/null || exit 1
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest -p no:cacheprovider -q "$@"
