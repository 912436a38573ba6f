#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests that build the real extension and load it
# into real interpreters (pyenv 3.8 and 3.13 by default; the matrix test takes every interpreter
# found and needs 3.8 and 3.12). No mocks of the interpreter or compiler. The first run installs
# abi3audit from PyPI into target/tmp/abi3audit-venv (kept for later runs).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test "$@"
