#!/usr/bin/env bash
# The GPU path in one go (under 5 minutes on one modern GPU): install, then training and prediction
# images/s with and without mixed precision and XLA. Run on a machine with an NVIDIA GPU and pip access:
#   bash benchmarks/gpu_check.sh | tee gpu_check.log
# Paste the table into benchmarks/RESULTS.md with the GPU's name.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1
VENV=${VENV:-/tmp/carseg-gpu-venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -e . "tensorflow[and-cuda]"
fi
PY="$VENV/bin/python"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
"$PY" -c "from carseg_gui.core.unet import compute_device; print('device:', compute_device())"
echo "mixed_precision xla train_img_s plain_img_s"
for mp in on off; do
  for xla in on off; do
    line=$("$PY" benchmarks/bench_train.py --limit 320 --epochs 3 --quality-epochs 0 \
      --mixed-precision "$mp" --xla "$xla" | tail -1)
    "$PY" -c "import json,sys; d=json.loads(sys.argv[1]); print('$mp', '$xla', d['images_per_s'], d['plain_images_per_s'])" "$line"
  done
done
"$PY" benchmarks/bench_predict.py --limit 256 | tail -6
