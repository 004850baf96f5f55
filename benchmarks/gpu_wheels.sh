#!/usr/bin/env bash
# Wheels the GPU machine's Python (3.12, torch with CUDA preinstalled, no network) lacks for facesym's Table 2
# chain, downloaded here into .whl/ (git-ignored) for benchmarks/gpu_check.sh to install there.
#   benchmarks/gpu_wheels.sh            then carry .whl to the GPU machine beside the checkout
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
# connection_pool (a snakemake dependency) is published as source only: build its pure-Python wheel here
python3 -m pip wheel --quiet --no-deps -w .whl "connection_pool==0.0.3"
platforms=()
for n in 2_17 2_27 2_28 2_31 2_34 2_35; do platforms+=(--platform "manylinux_${n}_x86_64"); done
python3 -m pip download --quiet --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" --platform manylinux2014_x86_64 --platform any --find-links .whl -d .whl \
    "snakemake>=9,<10" "jsonschema>=4.20"
# the image already has these (with compiled parts built for it): keep its own copies
rm -f .whl/numpy-* .whl/PyYAML-* .whl/pyyaml-* .whl/psutil-* .whl/MarkupSafe-* .whl/markupsafe-*
du -sh .whl
