#!/usr/bin/env bash
# dfbench's C++ against plain PyTorch eager on the same network (bench/pytorch_twin.py):
#
#   1. parity: build/dfbench_bench --twin_probe=DIR writes the smoke backbone's (perturbed)
#      weights and its forward on a probe batch; the twin loads them by name and must match
#      the fp32 output to 1e-4 (the bf16 difference is reported);
#   2. speed, for each precision: build/dfbench_bench (DFB_THREADS, DFB_PRECISION) and the
#      twin with the same thread count, one after the other, on the smoke preset's
#      training step, eval forward and Diffusion Forcing rollout;
#   3. a table: benchmark, dfbench, PyTorch eager, ratio (dfbench ÷ PyTorch; > 1: dfbench faster).
#
#   bench/compare.sh                          # all cores, fp32 and bf16
#   bench/compare.sh --threads 2 --precisions fp32 --quick
#
# Options:
#   --threads N         threads for both (default: nproc)
#   --precisions "P.."  any of fp32 bf16 (default: "fp32 bf16")
#   --quick             fewer iterations for the twin; skips the rollout without KV cache on the
#                       dfbench side (BM_Rollout/14/0, the slowest benchmark)
#   --out DIR           keep the probe, the raw JSON and the table here (default: a fresh temp dir)
#   --no-parity         skip step 1 (development only: the speeds then compare unchecked code)
# Environment: PYTHON (an interpreter with torch, h5py, numpy; default /usr/bin/python3, then python3),
#   DFB_BENCH (default build/dfbench_bench).
# Exit status: 0 when everything ran and parity held; 1 on a parity failure; 2 on a usage or setup
# error (or dfbench_bench --twin_probe failing); 3 when a benchmark failed on either side (the table
# still shows the rest).
set -euo pipefail
cd "$(dirname "$0")/.."

threads="$(nproc)"
precisions="fp32 bf16"
quick=0
parity=1
out=""
while (($#)); do
  case "$1" in
    --threads) threads="${2:?--threads needs a number}"; shift 2 ;;
    --threads=*) threads="${1#*=}"; shift ;;
    --precisions) precisions="${2:?--precisions needs a list, e.g. \"fp32 bf16\"}"; shift 2 ;;
    --precisions=*) precisions="${1#*=}"; shift ;;
    --quick) quick=1; shift ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --out=*) out="${1#*=}"; shift ;;
    --no-parity) parity=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --threads must be a positive integer, got '$threads'" >&2; exit 2; }
precisions="${precisions//,/ }"
for p in $precisions; do
  [[ "$p" == fp32 || "$p" == bf16 ]] || { echo "compare.sh: unknown precision '$p' (fp32 or bf16)" >&2; exit 2; }
done
[[ -n "${precisions// /}" ]] || { echo "compare.sh: --precisions is empty" >&2; exit 2; }

# --- Setup checks -------------------------------------------------------------------------
bench="${DFB_BENCH:-build/dfbench_bench}"
if [[ ! -x "$bench" ]]; then
  echo "compare.sh: $bench is not built (scripts/setup.sh, or cmake --build build)" >&2
  exit 2
fi
python=""
for candidate in "${PYTHON:-}" /usr/bin/python3 python3; do
  [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1 || continue
  if "$candidate" -c 'import torch, h5py, numpy' >/dev/null 2>&1; then python="$candidate"; break; fi
done
if [[ -z "$python" ]]; then
  probe_py="${PYTHON:-/usr/bin/python3}"
  command -v "$probe_py" >/dev/null 2>&1 || probe_py=python3
  missing="$("$probe_py" - <<'EOF' 2>/dev/null || echo "python3"
import importlib.util
print(" ".join(f"python3-{m}" for m in ("torch", "h5py", "numpy") if importlib.util.find_spec(m) is None))
EOF
)"
  echo "compare.sh: the PyTorch twin needs python3-torch, python3-h5py and python3-numpy (missing: ${missing:-?});" \
       "install with scripts/setup.sh --bench (or set PYTHON to an interpreter that has them)" >&2
  exit 2
fi

if [[ -z "$out" ]]; then out="$(mktemp -d /tmp/dfbench_compare.XXXXXX)"; fi
mkdir -p "$out"
twin=("$python" bench/pytorch_twin.py)
echo "compare.sh: $threads thread(s), precisions: $precisions; dfbench: $bench; PyTorch: $python" \
     "($("$python" -c 'import torch; print(torch.__version__)')); results in $out"
if pgrep -x ninja >/dev/null 2>&1 || pgrep -x make >/dev/null 2>&1; then
  echo "compare.sh: warning: a build is running on this machine; the timings will be disturbed" >&2
fi

# --- 1. Parity ----------------------------------------------------------------------------
if ((parity)); then
  echo "== parity: $bench --twin_probe=$out/probe, then the twin's forward on it"
  rm -rf "$out/probe"
  mkdir -p "$out/probe"
  DFB_THREADS="$threads" "$bench" --twin_probe="$out/probe" >"$out/probe/twin_probe.log" 2>&1 || {
    echo "compare.sh: $bench --twin_probe failed:" >&2
    cat "$out/probe/twin_probe.log" >&2
    exit 2
  }
  [[ -f "$out/probe/twin.h5" ]] || { echo "compare.sh: $bench --twin_probe wrote no $out/probe/twin.h5" >&2; exit 2; }
  set +e
  "${twin[@]}" --threads "$threads" --probe "$out/probe/twin.h5" >"$out/parity.json" 2>"$out/parity.err"
  status=$?
  set -e
  cat "$out/parity.err" >&2
  if ((status != 0)); then
    cat "$out/parity.json"
    echo "compare.sh: parity FAILED (exit $status): the twin does not compute dfbench's forward; no timing" >&2
    exit "$status"
  fi
  "$python" - "$out/parity.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
line = f"parity: fp32 max |twin − dfbench| = {r['fp32']['max_abs_diff']:.3g} (tolerance {r['fp32']['tolerance']:g})"
if "bf16" in r:
    b = r["bf16"]
    line += (f"; bf16 autocast max |twin − dfbench| = {b['max_abs_diff']:.3g} "
             f"({b['relative_to_output_max']:.2%} of max |y| = {r['output_max_abs']:.3g}; "
             f"dfbench's own bf16 vs fp32: {b['dfbench_bf16_vs_fp32']:.3g})")
print(line)
EOF
fi

# --- 2. Speed -----------------------------------------------------------------------------
filter='^(BM_TrainStep|BM_BackboneForward|BM_Rollout/14/1'
((quick)) || filter+='|BM_Rollout/14/0'
filter+=')'
twin_flags=(--time --threads "$threads")
((quick)) && twin_flags+=(--quick)
failed=0  # a side that fails in one precision is reported in the table; the others still run
for p in $precisions; do
  echo "== $p: dfbench ($bench, DFB_THREADS=$threads DFB_PRECISION=$p)"
  rm -f "$out/dfbench_$p.json" "$out/twin_$p.json"
  if ! DFB_THREADS="$threads" DFB_PRECISION="$p" "$bench" --benchmark_filter="$filter" --benchmark_format=json \
      --benchmark_out="$out/dfbench_$p.json" --benchmark_out_format=json >/dev/null 2>"$out/dfbench_$p.err"; then
    echo "compare.sh: $bench failed in $p (the first lines of $out/dfbench_$p.err):" >&2
    head -3 "$out/dfbench_$p.err" >&2
    rm -f "$out/dfbench_$p.json"
    failed=1
  fi
  echo "== $p: PyTorch eager (bench/pytorch_twin.py)"
  if ! "${twin[@]}" "${twin_flags[@]}" --precision "$p" --out "$out/twin_$p.json" >/dev/null 2>"$out/twin_$p.err"; then
    echo "compare.sh: the twin failed in $p (the first lines of $out/twin_$p.err):" >&2
    head -3 "$out/twin_$p.err" >&2
    rm -f "$out/twin_$p.json"
    failed=1
  fi
done

# --- 3. The table -------------------------------------------------------------------------
"$python" - "$out" "$threads" $precisions <<'EOF' | tee "$out/table.md"
import json, os, re, sys

out, threads, precisions = sys.argv[1], sys.argv[2], sys.argv[3:]
UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
KEYS = ("BM_TrainStep", "BM_BackboneForward", "BM_Rollout/14/1", "BM_Rollout/14/0")


def load(path):
    return json.load(open(path)) if os.path.exists(path) else None


def dfbench(doc):
    """Google Benchmark JSON -> {benchmark: {"steps/s": .., "frames/s": ..}} for the ones compared."""
    found = {}
    for b in (doc or {}).get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        key = next((k for k in KEYS if re.match(re.escape(k) + r"(/|$)", name)), None)
        if key:
            found[key] = {"steps/s": 1.0 / (b["real_time"] * UNIT[b.get("time_unit", "ns")]),
                          "frames/s": b.get("frames/s")}
    return found


rows, notes, libtorch, torch_version = [], [], "?", "?"
for p in precisions:
    doc, twin = load(os.path.join(out, f"dfbench_{p}.json")), load(os.path.join(out, f"twin_{p}.json"))
    d = dfbench(doc)
    if doc:
        libtorch = doc.get("context", {}).get("libtorch", libtorch)
    t = twin or {}
    torch_version = t.get("torch", torch_version)
    get = lambda key, what: (d.get(key) or {}).get(what)
    ts, fw, ro = t.get("train_step", {}), t.get("forward", {}), t.get("rollout", {})
    rows.append(("training step, 12x8 frames (steps/s)", p, get("BM_TrainStep", "steps/s"), ts.get("steps_per_s"), ""))
    rows.append(("forward, 16x8 frames (frames/s)", p, get("BM_BackboneForward", "frames/s"),
                 fw.get("frames_per_s"), ""))
    rows.append(("rollout, 16x14 frames (frames/s)", p, get("BM_Rollout/14/1", "frames/s"), ro.get("frames_per_s"),
                 "dfbench: KV cache; eager: none"))
    if "BM_Rollout/14/0" in d:
        rows.append(("rollout, 16x14 frames (frames/s)", p, get("BM_Rollout/14/0", "frames/s"),
                     ro.get("frames_per_s"), "neither caches"))
    if doc is None:
        notes.append(f"dfbench failed in {p}: see {out}/dfbench_{p}.err")
    if twin is None:
        notes.append(f"the twin failed in {p}: see {out}/twin_{p}.err")

fmt = lambda v: "failed" if v is None else (f"{v:.3g}" if v < 100 else f"{v:.0f}")
print(f"\n{threads} thread(s); dfbench on LibTorch {libtorch}, PyTorch eager {torch_version}\n")
print("| benchmark | precision | dfbench | PyTorch eager | ratio (dfbench ÷ PyTorch) | note |")
print("| --- | --- | ---: | ---: | ---: | --- |")
for label, p, a, b, note in rows:
    ratio = "–" if a is None or not b else f"{a / b:.2f}×"
    print(f"| {label} | {p} | {fmt(a)} | {fmt(b)} | {ratio} | {note} |")
for n in notes:
    print(f"\n{n}")
EOF
echo "compare.sh: raw results in $out"
if ((failed)); then
  echo "compare.sh: some benchmarks failed (see above)" >&2
  exit 3
fi
