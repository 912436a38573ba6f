#!/usr/bin/env bash
# Usage: scripts/ci/nightly-shard.sh SHARD OUT [--quick] [COMPARE-ARGS...]
# A shard job of the nightly workflow: the instruction-count and the wall-time pass over shard SHARD
# (i/N) of the (interpreter, mode) matrix, into OUT/instructions/ and OUT/wall-time/, neither gated
# nor reported (scripts/ci/nightly-gate.sh merges the shards first). The wall-time pass is
# --thorough, as in scripts/nightly.sh; --quick makes both passes quick (the tests). COMPARE-ARGS
# (--python, --mode, --scenario...) go to both passes.
# Environment: ABIBENCH, the runner (default target/release/abibench).
set -euo pipefail
shard=${1:?usage: nightly-shard.sh SHARD OUT [--quick] [COMPARE-ARGS...]}
out=${2:?usage: nightly-shard.sh SHARD OUT [--quick] [COMPARE-ARGS...]}
shift 2
counts=() times=(--thorough)
if [[ ${1:-} == --quick ]]; then
    counts=(--quick) times=(--quick)
    shift
fi
ab=${ABIBENCH:-target/release/abibench}
common=(--ascii --no-provision --no-report --shard "$shard")

"$ab" compare --measure instructions "${counts[@]}" "${common[@]}" --out "$out/instructions" "$@"
"$ab" compare "${times[@]}" "${common[@]}" --out "$out/wall-time" "$@"
