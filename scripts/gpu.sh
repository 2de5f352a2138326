#!/usr/bin/env bash
# One command on a GPU machine with PyTorch 2.x: build dfbench against that PyTorch's
# LibTorch (CUDA) and run a preset on the GPU (standard unless DFB_PRESET names another), timed.
#
#   scripts/gpu.sh [extra dfbench reproduce arguments]
#   DFB_PRESET=smoke scripts/gpu.sh
#
# The GPU machines have PyTorch, CUDA, CMake and ninja but none of dfbench's other
# libraries and no network. Carry them as Debian packages unpacked into a folder
# (never into /): on a machine with apt,
#   scripts/gpu.sh --fetch-deps        # downloads the .debs into .deps/ and unpacks them into .deps/root
# then carry .deps/root to the GPU machine; this script finds it there.
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS="${DFB_DEPS:-$PWD/.deps/root}"

if [[ "${1:-}" == "--fetch-deps" ]]; then
  mkdir -p .deps && cd .deps
  pkgs=(libopencv-dev libopencv-core-dev libopencv-imgproc-dev libopencv-core406 libopencv-imgproc406
        libhdf5-dev libhdf5-103-1 libhdf5-cpp-103-1 libsz2 libaec0 libcurl3-gnutls
        nlohmann-json3-dev libcli11-dev libgtest-dev libtbb12 libtbb-dev zlib1g-dev)
  apt-get download "${pkgs[@]}"
  for f in *.deb; do dpkg -x "$f" root; done
  echo "unpacked into .deps/root; carry .deps/root"
  exit 0
fi

prefix=()
if [[ -d "$DEPS" ]]; then
  export LD_LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu:$DEPS/usr/lib/x86_64-linux-gnu/hdf5/serial:${LD_LIBRARY_PATH:-}"
  prefix=(-DCMAKE_PREFIX_PATH="$DEPS/usr;$DEPS/usr/lib/x86_64-linux-gnu/cmake"
          -DHDF5_ROOT="$DEPS/usr/lib/x86_64-linux-gnu/hdf5/serial"
          -DCMAKE_CXX_FLAGS="-I$DEPS/usr/include -I$DEPS/usr/include/opencv4 -I$DEPS/usr/include/hdf5/serial")
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"

start=$(date +%s)
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DDFB_TORCH_FROM_PYTHON=ON \
  -DDFB_BUILD_TESTS=OFF -DDFB_BUILD_BENCH=OFF "${prefix[@]}"
cmake --build build-gpu -j "$(nproc)"
echo "gpu.sh: build took $(( $(date +%s) - start )) s"
build-gpu/dfbench ls >/dev/null
preset="${DFB_PRESET:-standard}"
time build-gpu/dfbench reproduce --preset "$preset" --device cuda --out "runs/$preset-gpu" "$@"
