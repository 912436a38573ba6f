#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests that build the real extension and load it
# into real interpreters (pyenv 3.8 and 3.13 by default; 3.14, 3.15 and 3.13t provisioned into
# abibench's cache; the matrix test takes every interpreter found and needs 3.8, 3.12, 3.15 and 3.13t), and open
# the report in headless Chromium. No mocks of the interpreter, compiler or browser. The first run
# installs abi3audit and ruff from PyPI into target/tmp/ (kept for later runs). The Python (ruff, and
# the worker's unit tests in every interpreter) goes first: `scripts/test-python.sh`.
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

# Get the interpreters the tests need before they run: on a clean machine this builds 3.13t from
# source (2.5 to 4 minutes on 2 cores); from the cache it takes a few seconds. The dev profile is
# the one `cargo test` builds too, so the runner is compiled once.
cargo run --quiet -- provision
scripts/test-python.sh
# bench-native is not a default member (the root's `cargo test` means the runner), so it is named.
# The browser test leaves its screenshot in target/artifacts/ for CI to keep.
cargo test --package abibench --package bench-native "$@"
