#!/usr/bin/env bash
# Regenerates results/reference/: a compare run at the default level on every interpreter found,
# the ABI compatibility matrix, and their report (report.md, report.html, plots/*.svg). Run it on a quiet machine; it takes a while.
#
#   scripts/reference-report.sh                      # the reference run
#   scripts/reference-report.sh --quick --python 3.8 --python 3.13   # try the script (do not commit that)
#
# Extra arguments go to `abibench compare`. The new run replaces the old one only once it succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."

ref=results/reference
mkdir -p results
new=$(mktemp -d results/.reference.XXXXXX)
chmod 755 "$new" # mktemp makes it private; the reference is for everyone to read
trap 'rm -rf "$new"' EXIT

cargo build --release --quiet
abibench=target/release/abibench
"$abibench" compare --out "$new" --no-report --ascii "$@"
json=$(ls "$new"/[0-9]*.json)
"$abibench" matrix --out "$new" --ascii
"$abibench" report "$json" --out "$new"
# The repository keeps the SVGs; PNGs are for everything else and are rebuilt by `abibench report`.
rm -f "$new"/plots/*.png
# Screenshots of the page as a browser draws it (the top, and the whole page), where Chromium is here.
chrome=${ABIBENCH_CHROMIUM:-$(command -v chromium || true)}
if [[ -n "$chrome" ]]; then
    mkdir -p "$new/screenshots"
    for shot in top:1400,2400 full:1400,16000; do
        "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${shot#*:}" \
            --screenshot="$new/screenshots/report-${shot%%:*}.png" "file://$PWD/$new/report.html" 2>/dev/null
    done
else
    echo "no chromium: screenshots skipped" >&2
fi

rm -rf "$ref"
mv "$new" "$ref"
trap - EXIT
echo "reference report: $ref/report.md ($ref/report.html, $(basename "$json"))"
