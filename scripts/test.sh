#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests that build the real extension and load it
# into real interpreters (pyenv 3.8 and 3.13 by default). No mocks of the interpreter or compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
# bench-native is not a default member (the root's `cargo test` means the runner), so it is named.
cargo test --package abibench --package bench-native "$@"
