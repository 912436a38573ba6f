#!/usr/bin/env bash
# Usage: scripts/ci/pyenv-from-path.sh DIR  (prints PYENV_ROOT=DIR, for $GITHUB_ENV)
# A GitHub runner has actions/setup-python's interpreters on PATH and no pyenv, while
# scripts/test-python.sh looks in pyenv and abibench's cache. This lists each python3.X on PATH as
# the pyenv version DIR/versions/<version>/bin/python3: a link to the real executable, so the
# interpreter keeps its own sys.prefix and abibench, which also searches PATH, sees one install.
set -euo pipefail
root=${1:?usage: pyenv-from-path.sh DIR}

found=0
for minor in $(seq 8 20); do
    exe=$(command -v "python3.$minor") || continue
    version=$("$exe" -c 'import platform; print(platform.python_version())')
    mkdir -p "$root/versions/$version/bin"
    ln -sfn "$(readlink -f "$exe")" "$root/versions/$version/bin/python3"
    echo "pyenv-from-path.sh: $version -> $exe" >&2
    found=1
done
if ((!found)); then
    echo "pyenv-from-path.sh: no python3.X on PATH ($PATH)" >&2
    exit 1
fi
echo "PYENV_ROOT=$root"
