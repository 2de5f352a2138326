#!/usr/bin/env bash
# CTest: the report of a tiny run renders in headless Chromium (scripts/check_report.sh).
#   tests/report_check.sh DFBENCH_BINARY WORK_DIR
set -euo pipefail
bin="$1"; work="$2"
rm -rf "$work"
"$bin" --threads 2 reproduce --preset tiny --out "$work" >/dev/null
for f in index.html report.md table.tex curves.csv metrics.json video.webm; do
  [[ -s "$work/report/$f" ]] || { echo "report_check: $work/report/$f is missing or empty" >&2; exit 1; }
done
grep -q '\\toprule' "$work/report/table.tex" || { echo "report_check: table.tex is not booktabs" >&2; exit 1; }
check="$(dirname "$0")/../scripts/check_report.sh"
"$check" "$work"
# The check itself must catch a broken image and a script error.
mkdir -p "$work/broken/report"
sed 's|data:image/png;base64,|data:image/png;base64,AAAA|' "$work/report/index.html" >"$work/broken/report/index.html"
if "$check" "$work/broken" 2>/dev/null; then echo "report_check: a broken image was not caught" >&2; exit 1; fi
sed 's|</body>|<script>undefined_function_of_the_test();</script></body>|' "$work/report/index.html" >"$work/broken/report/index.html"
if "$check" "$work/broken" 2>/dev/null; then echo "report_check: a script error was not caught" >&2; exit 1; fi
echo "report_check: broken images and script errors are caught"
