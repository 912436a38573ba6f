#!/usr/bin/env bash
# The nightly job on one machine, end to end:
#   1. provision interpreters          (`abibench provision`)
#   2. instruction-count pass          (`compare --measure instructions`)
#   3. wall-time pass                  (`compare --thorough`)
#      each pass gated on its baseline (`check`; the first night saves the baseline instead)
#   4. report (with the counts beside the times) and trend plots   (`report --other-pass`, `history plot`)
# Each pass is recorded in the history.
#
# Usage: scripts/nightly.sh [--quick] [--out DIR] [--baseline NAME] [--python V]... [--scenario GLOB]...
#                           [--crate PATH [--scenarios-dir DIR]]
#   --quick        smoke run for CI: 2 interpreters ($NIGHTLY_PYTHONS, default "3.8 3.13"),
#                  modes unlimited + abi3-py38, scenario groups calls_in and objects, --quick
#                  sampling, no provisioning. A couple of minutes with cached builds.
#   --out DIR      where everything goes (default results): DIR/nightly/<stamp>/ for this night's
#                  tables, verdicts and plots, DIR/baselines/ and DIR/history/ across nights.
#   --baseline N   baseline name (default nightly; the instruction pass uses N-instructions).
#   --python, --scenario  passed to compare (default: every interpreter, every scenario).
#   --crate PATH   your own crate instead of abibench's extension (see `compare --crate`).
#   --scenarios-dir DIR   passed to compare (with --crate, default PATH/benches/abibench).
# Environment: ABIBENCH=path/to/abibench to skip building the runner.
# Exit code: the gate's, worst over the passes: 0 no regression, 1 a cell regressed or is missing,
# 2 usage or data error.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

quick=0
krate=0
out=results
base=nightly
select=()
while (($#)); do
    case "$1" in
        --quick) quick=1 ;;
        --out | --baseline | --python | --scenario | --crate | --scenarios-dir)
            if (($# < 2)); then
                echo "nightly.sh: $1 needs a value" >&2
                exit 2
            fi
            case "$1" in
                --out) out="$2" ;;
                --baseline) base="$2" ;;
                --crate) krate=1; select+=("$1" "$2") ;;
                *) select+=("$1" "$2") ;;
            esac
            shift
            ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "nightly.sh: unknown argument '$1' (see --help)" >&2
            exit 2
            ;;
    esac
    shift
done

if [[ -n "${ABIBENCH:-}" ]]; then
    ab="$ABIBENCH"
else
    (cd "$root" && cargo build --release --quiet)
    ab="$root/target/release/abibench"
fi
# The results file a compare run wrote into its own directory.
only_json() {
    local f=("$1"/*.json)
    [[ -f "${f[0]}" ]] || { echo "nightly.sh: no results file in $1" >&2; exit 2; }
    echo "${f[0]}"
}
say() { printf '\n== %s\n' "$*" >&2; }

if ((quick)); then
    level=(--quick)
    if ! printf '%s\n' "${select[@]}" | grep -qx -- --python; then
        for p in ${NIGHTLY_PYTHONS:-3.8 3.13}; do select+=(--python "$p"); done
    fi
    if ((!krate)); then
        if ! printf '%s\n' "${select[@]}" | grep -qx -- --scenario; then
            select+=(--scenario calls_in --scenario objects)
        fi
        select+=(--mode unlimited --mode abi3-py38)
    fi
else
    level=(--thorough)
fi

baselines="$out/baselines"
history="$out/history"
mkdir -p "$out/nightly"
# Sorts by time; the suffix keeps two nights started in the same second apart.
night=$(mktemp -d "$out/nightly/$(date -u +%Y%m%dT%H%M%SZ).XXXX")
gate=0

say "1. provision"
if ((quick)); then
    echo "skipped: --quick uses the interpreters already installed" >&2
else
    # Exit 1 means a version could not be had (3.14t, 3.15t here); the passes use what is there.
    "$ab" provision || echo "provision: some versions are unavailable; going on with those present" >&2
fi

# pass LABEL BASELINE COMPARE-ARGS...: one compare run into $night/LABEL, then the gate. The nightly
# policy (gate on the baseline; on its first night save the run as the baseline instead; record
# either in the history) is `check --save-if-missing`, which the workflow runs too. Raises $gate to
# the gate's exit code.
pass() {
    local label=$1 name=$2
    shift 2
    local dir="$night/$label" file rc=0
    # Step 1 provisioned already; the report is written once, in step 4.
    "$ab" compare --ascii --no-provision --no-report --out "$dir" "${select[@]}" "$@" >"$night/$label.tables.txt"
    file=$(only_json "$dir")
    echo "tables: $night/$label.tables.txt; results: $file" >&2
    "$ab" check "$file" --baseline "$name" --baselines-dir "$baselines" --history "$history" \
        --fail-on-missing --save-if-missing >"$night/$label.verdict.md" || rc=$?
    cat "$night/$label.verdict.md"
    if ((rc > gate)); then gate=$rc; fi
    if ((rc >= 2)); then
        echo "the gate could not compare (exit $rc): see the error above" >&2
    fi
}

say "2. instruction-count pass"
if ((quick)); then
    pass instructions "$base-instructions" --measure instructions --quick
else
    pass instructions "$base-instructions" --measure instructions
fi

say "3. wall-time pass (${level[*]})"
pass wall-time "$base" "${level[@]}"

say "4. report and trend plots"
# The report of the wall-time pass, with the counts beside it (where the two disagree, and why).
"$ab" report "$(only_json "$night/wall-time")" --other-pass "$(only_json "$night/instructions")" --out "$night/report"
"$ab" history plot --dir "$history" --out "$night/trends"
# Where the two passes disagree, by group: what a count-based gate cannot see.
"$ab" reproduce "$(only_json "$night/wall-time")" "$(only_json "$night/instructions")" --ascii \
    >"$night/agreement.txt"

# One page for the CI summary: every verdict of tonight.
for v in "$night"/*.verdict.md; do
    [[ -f "$v" ]] && cat "$v"
done >"$night/summary.md"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    cat "$night/summary.md" >>"$GITHUB_STEP_SUMMARY"
fi
"$ab" history list --dir "$history" >&2
say "done: $night (gate exit code $gate)"
exit "$gate"
