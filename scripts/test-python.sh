#!/usr/bin/env bash
# The repository's Python: ruff over all of it (scripts/lint-python.sh), then the worker's unit tests
# (runner/tests/python/, the standard library's unittest) in every interpreter 3.8+ found in pyenv
# and in abibench's cache: the worker runs inside each of them. 3.8, the oldest the worker must
# run on, is required. Seconds; `scripts/test.sh` runs it first, and `scripts/test-fast.sh` after
# the runner's unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/lint-python.sh

pyenv_root=${PYENV_ROOT:-${HOME:-}/.pyenv}
cache=${ABIBENCH_CACHE_DIR:-${HOME:-}/.cache/abibench}
pythons=()
for python in "$pyenv_root"/versions/3.*/bin/python3 "$cache"/interpreters/*/abibench-python3.* \
    "$cache"/interpreters/*/bin/python3.*t; do
    if [ -x "$python" ] && "$python" -c 'import sys; sys.exit(sys.version_info < (3, 8))' 2>/dev/null; then
        pythons+=("$python")
    fi
done
if ! printf '%s\n' "${pythons[@]}" | grep -q '/3\.8[.0-9]*/bin/python3$'; then
    echo "test-python.sh: no Python 3.8 in $pyenv_root/versions (pyenv install 3.8): the worker must run on it" >&2
    exit 1
fi

failed=0
for python in "${pythons[@]}"; do
    start=$(date +%s%N)
    # The subprocess tests start the worker with the same command (a launcher script, for some).
    if out=$(ABIBENCH_TEST_PYTHON="$python" "$python" -B -m unittest discover -s runner/tests/python 2>&1); then
        status=ok
    else
        status=FAILED failed=1
        printf '%s\n' "$out"
    fi
    printf '%-70s %s, %s (%d ms)\n' "$python" "$(printf '%s\n' "$out" | grep -o '^Ran [0-9]* tests')" \
        "$status" $((($(date +%s%N) - start) / 1000000))
done
exit $failed
