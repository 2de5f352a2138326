#!/usr/bin/env bash
# Installs the dfbench of BUILD into BUILD/install, builds examples/external_baseline
# against it out of tree (find_package(dfbench)), and checks that the resulting binary is
# the full CLI with the example's baseline registered: it is listed by `ls`, and it trains,
# rolls out and is evaluated beside a built-in method on the tiny preset.
#
#   scripts/check_example.sh [BUILD]    # default: build
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
prefix="$build/install"
example="$build/example"

cmake --install "$build" --prefix "$prefix" > "$build/install.log"
cmake -S "$root/examples/external_baseline" -B "$example" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" > "$example.configure.log"
cmake --build "$example" -j "$(nproc)" > "$example.build.log" || { cat "$example.build.log"; exit 1; }

bin="$example/dfbench_plus"
"$bin" ls | grep -E "^  history_dropout_ar " || { echo "check_example: history_dropout_ar is not listed" >&2; exit 1; }
"$bin" ls | grep -qE "^  teacher_forcing " || { echo "check_example: the built-in methods are missing" >&2; exit 1; }
run="$(mktemp -d)"
trap 'rm -rf "$run"' EXIT
"$bin" --threads 1 reproduce --preset tiny --out "$run/tiny" --methods history_dropout_ar,teacher_forcing > "$run/log" 2>&1 ||
  { tail -20 "$run/log"; exit 1; }
test -f "$run/tiny/history_dropout_ar/samples.h5"
grep -q '"history_dropout_ar"' "$run/tiny/metrics.json"
echo "check_example: examples/external_baseline built against $prefix; history_dropout_ar listed, trained, rolled out and evaluated"
