#!/usr/bin/env bash
# Regenerates results/reference/: a compare run at the default level on every interpreter found,
# the ABI compatibility matrix, and their report. Run it on a quiet machine; it takes a while.
#
#   scripts/reference-report.sh                      # the reference run
#   scripts/reference-report.sh --quick --python 3.8 --python 3.13   # try the script (do not commit that)
#
# Extra arguments go to `abibench compare`. The new run replaces the old one only once it succeeded.
#
# The repository keeps what reads well in a diff and stays small (well under 2 MB): report.md, the
# SVG plots, and the run and matrix data as compact gzipped JSON (abibench reads `.json.gz` as it
# is: `abibench report results/reference/<id>.json.gz` redoes the page). The HTML page, the PNGs and
# the screenshots are made too, but go to target/artifacts/reference/ (CI artifacts), not to git.
set -euo pipefail
cd "$(dirname "$0")/.."

ref=results/reference
artifacts=target/artifacts/reference
mkdir -p results
new=$(mktemp -d results/.reference.XXXXXX)
chmod 755 "$new" # mktemp makes it private; the reference is for everyone to read
trap 'rm -rf "$new"' EXIT

cargo build --release --quiet
abibench=target/release/abibench
"$abibench" compare --out "$new" --no-report --ascii "$@"
"$abibench" matrix --out "$new" --ascii
# Compact and gzipped: a third of the pretty-printed size once compressed, and no diff noise.
python3 - "$new"/*.json <<'PY'
import gzip, json, os, sys
for path in sys.argv[1:]:
    with open(path) as f:
        data = json.load(f)
    with gzip.GzipFile(path + ".gz", "wb", compresslevel=9, mtime=0) as out:
        out.write(json.dumps(data, separators=(",", ":")).encode())
    os.remove(path)
PY
json=$(ls "$new"/[0-9]*.json.gz)
"$abibench" report "$json" --out "$new"

rm -rf "$artifacts"
mkdir -p "$artifacts/plots"
mv "$new"/report.html "$artifacts"/
mv "$new"/plots/*.png "$artifacts"/plots/
cp "$new"/plots/*.svg "$artifacts"/plots/
# Screenshots of the page as a browser draws it (the top, and the whole page), where Chromium is here.
chrome=${ABIBENCH_CHROMIUM:-$(command -v chromium || true)}
if [[ -n "$chrome" ]]; then
    for shot in top:1400,2400 full:1400,16000; do
        "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${shot#*:}" \
            --screenshot="$artifacts/report-${shot%%:*}.png" "file://$PWD/$artifacts/report.html" 2>/dev/null
    done
else
    echo "no chromium: screenshots skipped" >&2
fi
# The page links the raw data beside it.
cp "$json" "$new"/matrix-*.json.gz "$artifacts"/

rm -rf "$ref"
mv "$new" "$ref"
trap - EXIT
echo "reference report: $ref/report.md ($(du -sh "$ref" | cut -f1)); page and screenshots: $artifacts/"
