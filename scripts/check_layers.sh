#!/usr/bin/env bash
# Checks the layering of layers.txt: every #include "FOLDER/..." in a layer's sources names
# the layer itself or a folder it may include (directly or through the folders it names),
# and every layer names only layers declared above it (so the graph has no cycle).
# Prints the graph it checks and every violation (file:line: the include and why).
#
#   scripts/check_layers.sh [ROOT]     # ROOT: a source tree (default: this one)
#   scripts/check_layers.sh --self-test  # also proves it fails on a planted upward include
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

check() {
  local root="$1"
  declare -A deps allowed
  local order=() line name rest d
  while IFS= read -r line; do
    [[ "$line" =~ ^([a-z-]+):[[:space:]]*(.*)$ ]] || continue
    name="${BASH_REMATCH[1]}"
    rest="${BASH_REMATCH[2]}"
    [[ "$name" == torch-free ]] && continue
    for d in $rest; do
      if [[ -z "${deps[$d]+x}" ]]; then
        echo "layers.txt: '$name' names '$d', which is not a layer declared above it" >&2
        return 1
      fi
    done
    deps[$name]="$rest"
    order+=("$name")
  done < "$root/layers.txt"

  # The transitive closure, in declaration order (each layer's deps are already closed).
  for name in "${order[@]}"; do
    local set=" $name "
    for d in ${deps[$name]}; do
      for x in $d ${allowed[$d]}; do [[ "$set" == *" $x "* ]] || set+="$x "; done
    done
    allowed[$name]="$set"
    printf '  %-10s -> %s\n' "$name" "${deps[$name]:-(nothing)}"
  done

  local bad=0 file layer inc target
  for layer in "${order[@]}"; do
    [[ -d "$root/$layer" ]] || continue
    while IFS= read -r file; do
      while IFS= read -r inc; do
        local lineno="${inc%%:*}" path
        path="$(sed -E 's/.*#include[[:space:]]+"([^"]+)".*/\1/' <<<"${inc#*:}")"
        target="${path%%/*}"
        [[ "$path" == */* && -n "${deps[$target]+x}" ]] || continue
        if [[ "${allowed[$layer]}" != *" $target "* ]]; then
          echo "${file#"$root"/}:$lineno: includes \"$path\": $layer may include only:${allowed[$layer]}" >&2
          bad=1
        fi
      done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
    done < <(find "$root/$layer" -type f \( -name '*.h' -o -name '*.cpp' \) ! -name 'test_*.cpp' | sort)
  done
  return $bad
}

if [[ "${1:-}" == "--self-test" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cp "$here/layers.txt" "$tmp/"
  mkdir -p "$tmp/base" "$tmp/pipeline"
  printf '#include "pipeline/reproduce.h"\n' > "$tmp/base/planted.h"
  touch "$tmp/pipeline/reproduce.h"
  if check "$tmp" >/dev/null 2>&1; then
    echo "check_layers: self-test failed: an upward include from base/ to pipeline/ was not caught" >&2
    exit 1
  fi
  echo "check_layers: self-test: a planted upward include (base -> pipeline) is caught"
  shift
fi

root="${1:-$here}"
echo "layers (layers.txt), each may include what it names and what those name:"
if check "$root"; then
  echo "check_layers: no upward include"
else
  echo "check_layers: upward includes found (above)" >&2
  exit 1
fi
