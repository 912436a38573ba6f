#!/usr/bin/env bash
# The edit-test loop, and CI's fast job: the runner's unit tests, then the repository's Python
# (ruff, and the worker's unit tests in every interpreter 3.8+ found: `scripts/test-python.sh`).
# No extension builds, no provisioning, no browser; `scripts/test.sh` runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --lib
scripts/test-python.sh
