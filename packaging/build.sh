#!/usr/bin/env bash
# Build the one-folder program for this platform with PyInstaller.
# Usage: packaging/build.sh [OUTPUT_DIR]   (default: dist; the program is OUTPUT_DIR/erpgo-desktop/)
# Uses the Python of the active virtual environment (or python3 on PATH) and installs
# `-e '.[package]'` into it when PyInstaller (or the program's dependencies) is missing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
output=$(mkdir -p "${1:-$repo/dist}" && cd "${1:-$repo/dist}" && pwd)
python=${PYTHON:-python}
command -v "$python" >/dev/null || python=python3

# Editable, as for development: the program is built from this checkout whatever the
# environment has installed, and the install only brings PyInstaller and the dependencies.
if ! "$python" -c "import PyInstaller, erpgo_desktop" 2>/dev/null; then
    echo "== installing: pip install -e '.[package]'"
    "$python" -m pip install --quiet -e "$repo[package]"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/erpgo-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "== building $output/erpgo-desktop with $("$python" -m PyInstaller --version 2>/dev/null | tail -1 | sed 's/^/PyInstaller /')"
started=$SECONDS
(cd "$repo" && "$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$output" --workpath "$work" packaging/erpgo-desktop.spec)
seconds=$((SECONDS - started))

bundle=$output/erpgo-desktop
[[ -x $bundle/erpgo-desktop || -x $bundle/erpgo-desktop.exe ]] ||
    { echo "build: no program in $bundle" >&2; exit 1; }
echo "== built $bundle in ${seconds} s"
echo "   size: $(du -sh "$bundle" | cut -f1) (du -sh)"
if command -v tar >/dev/null && command -v gzip >/dev/null; then
    echo "   as a .tar.gz: $(tar -C "$output" -cf - erpgo-desktop | gzip -6 | wc -c |
        awk '{ printf "%.0f MB", $1 / 1000000 }')"
fi
