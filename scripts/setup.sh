#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for dfbench and builds it: installs the Debian
# packages (only the missing ones; non-interactive, safe to rerun), checks that
# libblas.so.3 is OpenBLAS (docs/design.md §9: 3x faster training than the reference BLAS),
# and builds Release into build/ (dfbench, dfbench_tests, dfbench_bench).
#
#   scripts/setup.sh                 # packages + build
#   scripts/setup.sh --real-data     # also opencv-doc (its example videos: the smoke-real preset) and ffmpeg
#   scripts/setup.sh --bench         # also python3-torch and python3-h5py (bench/compare.sh: the PyTorch eager twin)
#   DFB_SKIP_APT=1 scripts/setup.sh  # build only
#   DFB_WERROR=ON scripts/setup.sh   # warnings as errors (CI)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake ninja-build pkg-config git ca-certificates
  libtorch-dev libopenblas0-openmp   # LibTorch 1.13 and the BLAS it should multiply with
  libopencv-dev libhdf5-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libbenchmark-dev
  gnuplot-nox                        # the report's charts
  clang libclang-rt-14-dev           # scripts/fuzz.sh: the libFuzzer targets (CI runs a short pass)
  chromium                           # scripts/check_report.sh: the report opened headless (tests)
  zlib1g-dev dataset-fashion-mnist   # moving_fashion_mnist: the Fashion-MNIST idx files (gzip)
  slurm-wlm munge                    # scripts/slurm-local.sh: a one-node Slurm cluster for the tests
  libgloo-dev                        # c10d's Gloo headers: data-parallel training across processes
)

for arg in "$@"; do
  case "$arg" in
    --real-data) PACKAGES+=(opencv-doc ffmpeg) ;;
    --bench) PACKAGES+=(python3-torch python3-h5py python3-numpy) ;;
    *) echo "setup: unknown option '$arg' (use --real-data, --bench)" >&2; exit 2 ;;
  esac
done

if [[ "${DFB_SKIP_APT:-0}" != 1 ]]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    sudo=""
    [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: all Debian packages present"
  fi
fi

blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)"
case "$blas" in
  *openblas*) echo "setup: libblas.so.3 -> $blas" ;;
  *) echo "setup: warning: libblas.so.3 is '$blas', not OpenBLAS; training will be ~3x slower" \
          "(fix: update-alternatives --config libblas.so.3-x86_64-linux-gnu)" >&2 ;;
esac

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDFB_WERROR="${DFB_WERROR:-OFF}"
cmake --build build -j "$(nproc)"
echo "setup: built build/dfbench; try: build/dfbench ls"
