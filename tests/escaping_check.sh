#!/usr/bin/env bash
# CTest: strings from configs and files reach the report escaped for where they land. A tiny
# run whose method label carries HTML markup, quotes, Markdown and gnuplot markup, a backquoted
# command (gnuplot runs those inside double quotes) and a shell substitution; its report opened
# in headless Chromium: no script ran, no element was injected, no command ran.
#   tests/escaping_check.sh DFBENCH_BINARY WORK_DIR
# Exit 77 (CTest's "skipped") when Chromium is not installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(readlink -f "$1")"; work="$2"
browser="$(command -v chromium || command -v chromium-browser || true)"
[[ -n "$browser" ]] || { echo "escaping_check: chromium is not installed" >&2; exit 77; }
rm -rf "$work"; mkdir -p "$work"; cd "$work"
work="$(pwd)"
methods='[{"name": "teacher_forcing", "label": "x<img src=x onerror=\"document.body.dataset.pwned=1\"><marquee>'"'"'`touch gnuplot_ran`$(touch shell_ran)&amp;{}_^|*[a](b)~"}]'
"$bin" --threads 2 reproduce --preset tiny --out "$work/run" --set "methods=$methods" --set train.steps=4 >reproduce.log 2>&1 ||
  { tail -5 reproduce.log >&2; echo "escaping_check: reproduce failed" >&2; exit 1; }
fail() { echo "escaping_check: $*" >&2; exit 1; }
for f in gnuplot_ran shell_ran run/gnuplot_ran run/report/gnuplot_ran; do
  [[ ! -e "$f" ]] || fail "a command inside the label ran ($f exists)"
done
report="$work/run/report"
# In Markdown the label is either escaped text (x\<img) or a code span (``x<img ...``), which shows it literally.
grep -P '(?<![\\])<img' "$report/report.md" | grep -v '``x<img src=x onerror=' | grep -q . &&
  fail "report.md holds the label's <img outside a code span"
grep -q 'x\\<img src=x onerror=' "$report/report.md" || fail "report.md does not show the label as escaped text"
grep -q '<img src=x' "$report/table.tex" && fail "table.tex holds the label unescaped"
flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --virtual-time-budget=10000)
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
dom="$(timeout 120 "$browser" "${flags[@]}" --user-data-dir="$profile" --dump-dom "file://$report/index.html" 2>/dev/null || true)"
[[ -n "$dom" ]] || fail "Chromium returned no DOM"
grep -q 'data-pwned' <<<"$dom" && fail "the label's onerror script ran"
grep -qi '<img src="x"' <<<"$dom" && fail "the label injected an <img> element"
grep -qi '<marquee' <<<"$dom" && fail "the label injected a <marquee> element"
grep -q 'x&lt;img src=x onerror=' <<<"$dom" || fail "the page does not show the label as text"
"$here/../scripts/check_report.sh" "$work/run" >/dev/null || fail "the report does not render completely"
echo "escaping_check: the hostile label is shown as text in HTML, SVG, Markdown and LaTeX; nothing ran"
