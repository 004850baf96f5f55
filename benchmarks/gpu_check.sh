#!/usr/bin/env bash
# The GPU check: run once on a machine with one CUDA GPU (about 8 minutes) and record what it prints in
# benchmarks/README.md ("GPU check"). Steps:
#   1. the GPU, torch and CUDA; the tests that only run with a GPU (tests/test_device.py);
#   2. the renderer: numba on the CPU beside the torch backend on the GPU (batch 512, 112² and 224² gray);
#   3. the tiny config's Table 2 chain with device: cuda (one small embedded classifier, two identities);
#   4. one (classifier, identity) chain at the paper's grid (10 × 90, K = 10,000) with device: cuda,
#      wall time per job from Snakemake's benchmark files.
#
# Usage (repository root):
#   benchmarks/gpu_check.sh [OUTDIR]                       on the GPU machine; figures also in OUTDIR
#   FACESYM_CHECK_DEVICE=cpu benchmarks/gpu_check.sh       a rehearsal of every step on the CPU (slow)
# PYTHON names the interpreter whose torch sees the GPU (default: python3). Packages it lacks (snakemake,
# jsonschema, ...) can be carried as wheels: benchmarks/gpu_wheels.sh prepares them in .whl/, and this script
# installs .whl/*.whl into a private folder when the folder exists.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
out="$(realpath -m "${1:-${OUT:-$(mktemp -d)}}")"
mkdir -p "$out"
device="${FACESYM_CHECK_DEVICE:-cuda}"
python="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1
if ! "$python" -c "import snakemake, jsonschema" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/facesym-site \
        .whl/*.whl
    export PYTHONPATH="/tmp/facesym-site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$repo/src${PYTHONPATH:+:$PYTHONPATH}"
step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "1. machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "nvidia-smi: not available"
"$python" - <<PY
import os, torch
print(f"python torch {torch.__version__}, CUDA {torch.version.cuda}, GPU available: {torch.cuda.is_available()}")
if torch.cuda.is_available():
    print("GPU:", torch.cuda.get_device_name(0))
print("CPUs:", os.cpu_count(), "load average:", os.getloadavg())
if "$device" == "cuda" and not torch.cuda.is_available():
    raise SystemExit("gpu_check: no CUDA GPU visible to $python (FACESYM_CHECK_DEVICE=cpu rehearses on the CPU)")
PY
"$python" -m pytest -q -p no:cacheprovider tests/test_device.py 2>&1 | tail -n 3

step "2. renderer: numba (CPU) beside torch ($device)"
"$python" benchmarks/bench_render.py --batch 512 --sizes 112 224 --colors gray --repeats 5 --json "$out/render_numba.json"
"$python" benchmarks/bench_render.py --batch 512 --sizes 112 224 --colors gray --repeats 5 --backend torch \
    --device "$device" --json "$out/render_torch.json"

run_chain() {  # name, config YAML text
    local work="$out/$1"
    rm -rf "$work"
    mkdir -p "$work"
    printf '%s\n' "$2" > "$work/config.yaml"
    local start end
    start=$(date +%s)
    "$python" -m snakemake --snakefile "$repo/Snakefile" --directory "$work" --cores "$(nproc)" \
        results/table2.csv --configfile "$work/config.yaml" --quiet rules >"$work/snakemake.log" 2>&1 \
        || { tail -n 40 "$work/snakemake.log"; return 1; }
    end=$(date +%s)
    echo "$1: Table 2 chain in $((end - start)) s wall (log: $work/snakemake.log)"
    "$python" - "$work" <<'PY'
import json, sys
from pathlib import Path
work = Path(sys.argv[1])
for name in ("expressions", "surfaces"):
    for path in sorted((work / "results" / name).rglob("*.h5")):
        print(f"  {name}: {path.relative_to(work)}")
for log in sorted((work / "logs").rglob("*.log")):
    text = log.read_text()
    if "device" in text.lower():
        line = next(l for l in text.splitlines() if "device" in l.lower())
        print(f"  {log.relative_to(work)}: {line[:160]}")
PY
}

tiny_classifier='classifiers:
  - {name: gpu_cnn, kind: embedded, architecture: cnn, width: 8, depth: 1, group: symmetric}'

step "3. tiny config, device: $device"
run_chain tiny "seed: 7
device: $device
identities: {count: 2}
render: {size: 48}
$tiny_classifier
training: {images_per_class: 40, test_images_per_class: 10, epochs: 2}
expressions: {population: 12, generations: 4}
grid: {symmetry_steps: 4, time_steps: 6}
statistics: {permutations: 200, bootstrap: 100}"

step "4. one (classifier, identity) chain at the paper's grid, device: $device"
run_chain paper_grid "seed: 7
device: $device
identities: {count: 1}
$tiny_classifier
training: {images_per_class: 100, test_images_per_class: 20, epochs: 3}
grid: {symmetry_steps: 10, time_steps: 90}
statistics: {permutations: 10000, bootstrap: 100}"

step "done"
echo "figures in $out (render_*.json, */snakemake.log)"
