#!/usr/bin/env bash
# Build the frozen one-folder program with PyInstaller and check it with its own smoke test.
#
#   installer/build_frozen.sh [--dist DIR] [--source DIR] [--no-smoke]   (make frozen: into dist/)
#
# --source freezes another checkout (an older release, for the upgrade check) with this spec;
# releases before 0.2.0 have no --smoke, hence --no-smoke.
# PYTHON (default .venv/bin/python) must have the program's dependencies and PyInstaller.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-$root/.venv/bin/python}"
dist="$root/dist"
source=""
smoke=1
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) dist="$2"; shift 2 ;;
    --source) source="$(cd "$2" && pwd)"; shift 2 ;;
    --no-smoke) smoke=""; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$dist"
dist="$(cd "$dist" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

start=$(date +%s)
GOVSHARE_SOURCE="$source" "$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" "$here/govshare.spec"
app="$dist/govshare-desktop"
echo "built $app in $(( $(date +%s) - start )) s: $(du -sh "$app" | cut -f1), version $("$app/govshare" --version)"

[ -n "$smoke" ] || exit 0
# The smoke test in a throwaway home, with no display: what a fresh PC would do first.
home="$work/home"
mkdir -p "$home"
env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 "$app/govshare-desktop" --smoke 2>"$work/smoke.err" \
  || { cat "$work/smoke.err" >&2; echo "smoke test of $app failed" >&2; exit 1; }
