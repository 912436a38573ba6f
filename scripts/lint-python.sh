#!/usr/bin/env bash
# ruff over all the repository's Python (ruff.toml). The first run installs ruff from PyPI into
# target/tmp/ruff-venv (kept for later runs). `scripts/test-python.sh` and CI's lint job run it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: a newer ruff may add checks, and "clean" should mean the same thing on every machine.
ruff_version=0.17.6
venv=target/tmp/ruff-venv
if [ "$("$venv/bin/ruff" --version 2>/dev/null)" != "ruff $ruff_version" ]; then
    echo "lint-python.sh: installing ruff $ruff_version into $venv" >&2
    # Built aside and renamed, so an interrupted install is never taken for a finished one.
    partial="$venv.partial-$$"
    rm -rf "$partial"
    python3 -m venv "$partial"
    "$partial/bin/python" -m pip install --quiet "ruff==$ruff_version"
    rm -rf "$venv"
    mv "$partial" "$venv"
fi
"$venv/bin/ruff" check --quiet .
echo "ruff $ruff_version: clean"
