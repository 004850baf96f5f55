#!/usr/bin/env bash
# Run a command inside the project's virtual environment, creating it first when needed.
#   ./run.sh snakemake --cores 2 results/table2.csv     the main job
#   ./run.sh pytest                                      the tests
# The environment (.venv, or $FACESYM_VENV) is (re)installed when it is missing or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")"
venv="${FACESYM_VENV:-.venv}"
stamp="$venv/.facesym-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "run.sh: installing facesym and its dependencies into $venv (first run takes a few minutes)" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
    echo "$want" > "$stamp"
fi
export PATH="$PWD/$venv/bin:$PATH"
export VIRTUAL_ENV="$PWD/$venv"
exec "$@"
