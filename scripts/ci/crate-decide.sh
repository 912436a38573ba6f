#!/usr/bin/env bash
# Usage: scripts/ci/crate-decide.sh RUNS OUT [REPORT-ARGS...]
# The decide job of the reusable crate workflow (.github/workflows/crate.yml): one page and one
# wheel plan from every runner's results under RUNS (RUNS/<label>/<run id>.json), which a Python
# is served by only where every machine serves it, into OUT/. The page's first screen (the answer,
# up to the evidence) goes to $GITHUB_STEP_SUMMARY where that is set. REPORT-ARGS (--workload,
# --threshold) go to report.
# Environment: ABIBENCH, the runner (default target/release/abibench).
set -euo pipefail
usage="usage: crate-decide.sh RUNS OUT [REPORT-ARGS...]"
runs=${1:?$usage}
out=${2:?$usage}
shift 2
ab=${ABIBENCH:-target/release/abibench}
mapfile -t files < <(find "$runs" -mindepth 2 -maxdepth 2 -name '*.json' | sort)
if [[ ${#files[@]} -eq 0 ]]; then
    echo "crate-decide.sh: no results under $runs (every measure job failed?)" >&2
    exit 1
fi
"$ab" report "${files[@]}" --out "$out" "$@"
if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
    sed '/^## The evidence/,$d' "$out/report.md" >>"$GITHUB_STEP_SUMMARY"
fi
