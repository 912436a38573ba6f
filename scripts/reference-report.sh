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

rm -rf "$ref"
mv "$new" "$ref"
trap - EXIT
echo "reference report: $ref/report.md ($ref/report.html, $(basename "$json"))"
