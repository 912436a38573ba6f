#!/usr/bin/env bash
# CI's lint job, the same here: formatting, clippy with warnings as errors over every package and
# target, ruff over the repository's Python, and the `workflows` test: zizmor and actionlint over
# the workflows, ShellCheck over the scripts (installed into target/tmp/ on its first run).
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
scripts/lint-python.sh
cargo test --quiet --test workflows
