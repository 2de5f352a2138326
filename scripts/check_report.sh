#!/usr/bin/env bash
# Opens RUN_DIR/report/index.html in headless Chromium (Debian's `chromium`), saves a
# screenshot beside it (screenshot.png), and fails on any image that did not load, a video
# that cannot be decoded, or a script error. The page checks itself once loaded and writes
# its verdict to <body data-check="ok | fail: ...">; this script reads the rendered DOM.
#
#   scripts/check_report.sh runs/smoke          # exit 0 = the report renders completely
# Exit 77 (CTest's "skipped") when Chromium is not installed.
set -euo pipefail
run="${1:?usage: scripts/check_report.sh RUN_DIR}"
index="$run/report/index.html"
[[ -f "$index" ]] || { echo "check_report: $index is missing (run dfbench reproduce or dfbench report first)" >&2; exit 1; }
browser="$(command -v chromium || command -v chromium-browser || true)"
[[ -n "$browser" ]] || { echo "check_report: chromium is not installed (apt-get install chromium; scripts/setup.sh does)" >&2; exit 77; }
url="file://$(readlink -f "$index")"
flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --hide-scrollbars
       --autoplay-policy=no-user-gesture-required --virtual-time-budget=15000)
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
dom="$(timeout 120 "$browser" "${flags[@]}" --user-data-dir="$profile" --dump-dom "$url" 2>"$profile/stderr" || true)"
timeout 120 "$browser" "${flags[@]}" --user-data-dir="$profile" --window-size=1280,2000 \
  --screenshot="$(readlink -f "$run/report")/screenshot.png" "$url" >/dev/null 2>>"$profile/stderr" || true
verdict="$(grep -o 'data-check="[^"]*"' <<<"$dom" | head -1 | sed 's/^data-check="//; s/"$//' || true)"
if [[ "$verdict" == ok ]]; then
  [[ -s "$run/report/screenshot.png" ]] || { echo "check_report: no screenshot was saved" >&2; exit 1; }
  echo "check_report: $index renders: every image and video loads, no script error; screenshot $run/report/screenshot.png"
  exit 0
fi
echo "check_report: $index: ${verdict:-the page never finished loading (no verdict)}" >&2
grep -iE "error|uncaught" "$profile/stderr" | head -5 >&2 || true
exit 1
