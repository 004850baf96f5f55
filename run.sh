#!/usr/bin/env bash
# Run a command inside the project's virtual environment, creating it first when needed.
#   ./run.sh snakemake --cores 2 results/table2.csv     the main job
#   ./run.sh pytest                                      the tests
# The environment (.venv, or $FACESYM_VENV) is (re)installed when it is missing or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")"
venv="${FACESYM_VENV:-.venv}"
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac
stamp="$venv/.facesym-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "run.sh: installing facesym and its dependencies into $venv (first run takes a few minutes)" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
    echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
export VIRTUAL_ENV="$venv"
# A venv shared between clones has its editable install pointing at one clone's src; putting this clone's src
# first on the path makes every command (and every Snakemake job it starts) import the code of this checkout.
installed_src="$(cat "$venv"/lib/python*/site-packages/__editable__.facesym-*.pth 2>/dev/null | head -n 1 || true)"
if [ -n "$installed_src" ] && [ "$installed_src" != "$PWD/src" ]; then
    echo "run.sh: $venv was installed from $installed_src; importing facesym from $PWD/src instead" >&2
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
# Snakemake reads --configfile files before any workflow code runs, and names neither the file nor the line of a
# broken one (a missing one ends in a traceback): check them first, one line per broken file.
if [ "${1:-}" = snakemake ] && [[ " $* " == *" --configfile"* ]]; then
    python -m facesym.configfiles "$@" || exit 1
fi
exec "$@"
