#!/usr/bin/env bash
# One-shot GPU check of heavytail.nn on a machine with CUDA: the CUDA pass of the nn tests,
# then bench_nn_train.py at the full workload in both modes (single: FCN4 width 2048,
# 60000 x 784, b = 100, 2000 steps, type-1 noise alpha = 1.75; ensemble: 16 networks of
# widths 128, 256 and 512 against 16 sequential runs), and the nn.trend ensemble timed
# whole (--mode target: 36 small FCNs on digits to a training loss). Everything is written
# to "$OUT". Expected wall time on an H200: about 5 minutes; each part has its own time
# limit (120 + 120 + 220 + 60 s), so the whole stays under 9 minutes.
#
#   OUT=/some/folder bash benchmarks/gpu_run.sh      (PYTHON=... to choose the interpreter)
set -u -o pipefail
: "${OUT:?set OUT to the folder that receives the logs}"
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

# heavytail is a namespace whose subpackages are the top-level folders: without an
# install, link them into a folder on PYTHONPATH.
SITE=$(mktemp -d)
mkdir -p "$SITE/heavytail"
for p in _lib theory simulate nn reports; do ln -s "$PWD/$p" "$SITE/heavytail/$p"; done
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

status=0
"$PY" - <<'PY' 2>&1 | tee "$OUT/device.txt" || status=1
import torch
assert torch.cuda.is_available(), "CUDA is not available"
print("device:", torch.cuda.get_device_name(0), "| torch", torch.__version__,
      "| CUDA", torch.version.cuda)
PY

timeout 120 "$PY" -m pytest -q -p no:cacheprovider -m cuda tests/nn 2>&1 \
    | tee "$OUT/tests_cuda.txt" || status=1
timeout 120 "$PY" benchmarks/bench_nn_train.py --device cuda --mode single --repeats 2 2>&1 \
    | tee "$OUT/bench_single.txt" || status=1
timeout 220 "$PY" benchmarks/bench_nn_train.py --device cuda --mode ensemble --repeats 1 2>&1 \
    | tee "$OUT/bench_ensemble.txt" || status=1
timeout 60 "$PY" benchmarks/bench_nn_train.py --device cuda --mode target --repeats 2 2>&1 \
    | tee "$OUT/bench_target.txt" || status=1
rm -rf "$SITE"
exit $status
