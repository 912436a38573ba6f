#!/usr/bin/env bash
# Usage: scripts/ci/nightly-gate.sh SHARDS DATA OUT
# The gate job of the nightly workflow. Merges the shards' results (SHARDS/shard-*/<measure>/*.json,
# as the shard jobs' artifacts download) into OUT/merged/<measure>/; gates each measure on its
# baseline with the nightly policy of scripts/nightly.sh (`check --fail-on-missing
# --save-if-missing`: on a baseline's first night the run becomes it), baselines and history in
# DATA/; and writes the site to publish, OUT/site/: each verdict, the report (counts beside times),
# trend plots and index.html. A failed shard still gets merged: its cells are missing, which fails
# the gate.
# The gate's exit code, worst over the measures (0 no regression, 1 a cell regressed or is missing,
# 2 data error), goes to OUT/gate-code and, on a runner, to $GITHUB_OUTPUT as code=N: the script
# itself exits non-zero only when it could not do its work, so the report is published before the
# workflow turns red on a regression.
# Environment: ABIBENCH, the runner (default target/release/abibench); BASELINE (default nightly).
set -euo pipefail
usage="usage: nightly-gate.sh SHARDS DATA OUT"
shards=${1:?$usage} data=${2:?$usage} out=${3:?$usage}
ab=${ABIBENCH:-target/release/abibench}
base=${BASELINE:-nightly}
site=$out/site
mkdir -p "$site" "$data/baselines" "$data/history"

code=0
for measure in instructions wall-time; do
    files=("$shards"/shard-*/"$measure"/*.json)
    [[ -f "${files[0]}" ]] || continue
    "$ab" merge "${files[@]}" --out "$out/merged/$measure"
    merged=("$out/merged/$measure"/*.json)
    name=$base
    [[ $measure == instructions ]] && name=$base-instructions
    rc=0
    "$ab" check "${merged[0]}" --baseline "$name" --baselines-dir "$data/baselines" --history "$data/history" \
        --fail-on-missing --save-if-missing >"$site/$measure.verdict.md" || rc=$?
    cat "$site/$measure.verdict.md"
    if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then cat "$site/$measure.verdict.md" >>"$GITHUB_STEP_SUMMARY"; fi
    if ((rc > code)); then code=$rc; fi
done
echo "$code" >"$out/gate-code"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then echo "code=$code" >>"$GITHUB_OUTPUT"; fi

"$ab" history plot --dir "$data/history" --out "$site/trends"
wall=("$out/merged/wall-time"/*.json)
counts=("$out/merged/instructions"/*.json)
# The counts beside the times: where the two passes disagree, and why.
other=()
if [[ -f ${counts[0]} ]]; then other=(--other-pass "${counts[0]}"); fi
"$ab" report "${wall[0]}" "${other[@]}" --out "$site/report"
# The index: tonight's verdicts, the report, the trends.
{
    echo "<!doctype html><meta charset=utf-8><title>abibench nightly</title><h1>abibench nightly</h1>"
    for v in "$site"/*.verdict.md; do
        echo "<h2>$(basename "$v")</h2><pre>$(sed 's/&/\&amp;/g; s/</\&lt;/g' "$v")</pre>"
    done
    echo "<p><a href=report/>report</a></p>"
    for svg in "$site"/trends/*/*.svg; do
        [[ -f $svg ]] && echo "<img src=\"${svg#"$site"/}\" width=960>"
    done
} >"$site/index.html"
echo "nightly-gate.sh: gate exit code $code; site in $site" >&2
