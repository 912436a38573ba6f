#!/usr/bin/env bash
# Usage: scripts/ci/crate-measure.sh CRATE LABEL OUT [COMPARE-ARGS...]
# The measure job of the reusable crate workflow (.github/workflows/crate.yml), one per runner:
# `abibench compare --crate CRATE` with the machine named LABEL (the runner's label, which the
# combined page shows beside its CPU), results into OUT/LABEL/. COMPARE-ARGS (--python, --quick,
# --workload, ...) go to compare.
# Environment: ABIBENCH, the runner (default target/release/abibench).
set -euo pipefail
usage="usage: crate-measure.sh CRATE LABEL OUT [COMPARE-ARGS...]"
crate=${1:?$usage}
label=${2:?$usage}
out=${3:?$usage}
shift 3
ab=${ABIBENCH:-target/release/abibench}
ABIBENCH_MACHINE=$label "$ab" compare --crate "$crate" --ascii --no-report --out "$out/$label" "$@"
