#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests that build the real extension and load it
# into real interpreters (pyenv 3.8 and 3.13 by default), and open the report in headless Chromium.
# No mocks of the interpreter, compiler or browser.
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser test needs Debian's chromium (or ABIBENCH_CHROMIUM=/path/to/chrome); install it once.
if [ -z "${ABIBENCH_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
    echo "test.sh: installing chromium for the browser test" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium
fi

# The browser test leaves its screenshot in target/artifacts/ for CI to keep.
cargo test "$@"
