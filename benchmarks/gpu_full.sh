#!/usr/bin/env bash
# The image stage and the ensemble at full scale on the lent GPU machine (JAX backend), figures to $OUT.
#
#   benchmarks/gpu_full.sh [SCALE]        # SCALE: full (default); the test suite runs it with tiny on the CPU
#
# On the device (run from the repository root, `.whl` carried): the wheels the machine lacks are installed
# first (keras, polars and their needs, fetched here as docs/benchmarks.md says), the backend is JAX when it
# imports, else TensorFlow; the world is generated on the machine's own disk.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-full}"
OUT="${OUT:-outputs/gpu}"
WORLD="${HM_WORLD:-/tmp/hm_gpu_${SCALE}}"
mkdir -p "$OUT"
PYTHON="${PYTHON:-python3}"
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=3
if [ -z "${KERAS_BACKEND:-}" ]; then
    if "$PYTHON" -c "import jax" 2>/dev/null; then export KERAS_BACKEND=jax; else export KERAS_BACKEND=tensorflow; fi
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv > "$OUT/gpu.csv" || true
echo "scale $SCALE, backend $KERAS_BACKEND, world $WORLD, figures in $OUT"
# On the GPU the paper's whole ablation, end_to_end included (the CPU's full settings leave out frozen_pooled
# and end_to_end for time); HM_SET (space-separated SECTION__FIELD=VALUE) adds or replaces settings.
SETS=()
# (the script builds the submission's pairs, so ablation_always: a submission alone trains only the saved variant).
if [ "$SCALE" = full ]; then
    SETS+=(--set image__variants=no_image,frozen_pooled,frozen_calibrated,end_to_end --set image__ablation_always=yes)
fi
for s in ${HM_SET:-}; do SETS+=(--set "$s"); done
"$PYTHON" -m benchmarks.bench_relevance --scale "$SCALE" --world "$WORLD" --out "$OUT/relevance.json" ${SETS[@]+"${SETS[@]}"} 2>&1 \
    | tee "$OUT/log.txt"
