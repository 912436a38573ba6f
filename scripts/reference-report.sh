#!/usr/bin/env bash
# Regenerates results/reference/: a compare run at the default level on every interpreter found,
# the ABI compatibility matrix, and their report. Run it on a quiet machine; it takes a while.
#
#   scripts/reference-report.sh                      # the reference run
#   scripts/reference-report.sh --quick --python 3.8 --python 3.13   # try the script (do not commit that)
#
# Extra arguments go to `abibench compare`. The new run replaces the old one only once it succeeded.
#
# The repository keeps what reads well in a diff and stays under 2 MB: report.md, the SVG plots, and
# the run and matrix data as compact gzipped JSON, raw values rounded to 4 significant digits (at
# most 0.05 %, a tenth of the narrowest interval; abibench reads `.json.gz` as it is, and
# `abibench report results/reference/<id>.json.gz` redoes the page from it). The full-precision
# data, the HTML page, the PNGs and the screenshots go to target/artifacts/reference/ (CI
# artifacts), not to git.
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
rm -rf "$artifacts"
mkdir -p "$artifacts/plots"
# Compact and gzipped; the committed copy's raw values rounded (see above), the full one kept aside.
python3 - "$artifacts" "$new"/*.json <<'PY'
import gzip, json, os, sys

def rounded(x):
    return [float(f"{v:.4g}") for v in x]

def save(data, path):
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as out:
        out.write(json.dumps(data, separators=(",", ":")).encode())

artifacts = sys.argv[1]
for path in sys.argv[2:]:
    with open(path) as f:
        data = json.load(f)
    save(data, os.path.join(artifacts, os.path.basename(path) + ".gz"))
    for cell in data.get("cells", []):
        for p in cell.get("processes", []):
            p["values_s"], p["warmups_s"] = rounded(p["values_s"]), rounded(p["warmups_s"])
    for w in data.get("workers", []):
        w["overhead_values"] = rounded(w["overhead_values"])
    save(data, path + ".gz")
    os.remove(path)
PY
json=$(ls "$new"/[0-9]*.json.gz)
"$abibench" report "$json" --out "$new"

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

rm -rf "$ref"
mv "$new" "$ref"
trap - EXIT
echo "reference report: $ref/report.md ($(du -sh "$ref" | cut -f1)); page and screenshots: $artifacts/"
