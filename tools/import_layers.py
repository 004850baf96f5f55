"""Print facesym's import graph by layer and exit non-zero on any upward import.

Layers, top to bottom::

    4 scripts   workflow/scripts/*.py        may import the pipeline layer, the job logger and the thread limiter
    3 pipeline  facesym.pipeline.*           one module per stage: read inputs, call science, write outputs
    2 science   every other facesym module   face model, renderer, classifiers, statistics, cohort, figures …
    1 base      facesym, facesym.io.*, facesym.emotions, facesym.seeds, facesym.joblog, facesym.device

A module may import its own layer or any layer below it, never one above. Every ``import`` statement counts,
including those inside functions (the package imports lazily to keep job start-up short). Stdlib only::

    python tools/import_layers.py            # the graph, then "no upward import" or each offending edge
    python tools/import_layers.py --quiet    # only the verdict
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "facesym"
SCRIPTS = ROOT / "workflow" / "scripts"

LAYER_NAMES = {4: "scripts", 3: "pipeline", 2: "science", 1: "base"}
BASE = ("facesym", "facesym.io", "facesym.emotions", "facesym.seeds", "facesym.joblog", "facesym.device")
SCRIPT_ALLOWED = ("facesym.pipeline", "facesym.joblog", "facesym.device")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer(name: str) -> int:
    if name.startswith("scripts/"):
        return 4
    if within(name, "facesym.pipeline"):
        return 3
    if name == "facesym" or any(within(name, base) for base in BASE[1:]):
        return 1
    return 2


def imported(path: Path, importer: str, modules: set[str]) -> set[str]:
    """The facesym modules ``path`` imports (``from a import b`` counts as ``a.b`` when that is a module)."""
    found = set()
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {name for name in found if within(name, "facesym")}


def graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
    modules = set(files)
    edges = {name: imported(path, name, modules) for name, path in files.items()}
    for path in sorted(SCRIPTS.glob("*.py")):
        edges[f"scripts/{path.name}"] = imported(path, "scripts", modules)
    return edges


def violations(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if layer(target) > layer(source):
                found.append(
                    f"{source} ({LAYER_NAMES[layer(source)]}) imports {target} ({LAYER_NAMES[layer(target)]})"
                )
            elif layer(source) == 4 and not any(within(target, allowed) for allowed in SCRIPT_ALLOWED):
                found.append(f"{source} (scripts) imports {target}: scripts call the pipeline layer only")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    args = parser.parse_args(argv)
    edges = graph()
    if not args.quiet:
        for number in sorted(LAYER_NAMES, reverse=True):
            print(f"== layer {number}: {LAYER_NAMES[number]}")
            for source in sorted(name for name in edges if layer(name) == number):
                by_layer = defaultdict(list)
                for target in sorted(edges[source] - {source}):
                    by_layer[layer(target)].append(target.removeprefix("facesym."))
                listed = "; ".join(
                    f"{LAYER_NAMES[n]}: {', '.join(by_layer[n])}" for n in sorted(by_layer, reverse=True)
                )
                print(f"  {source.removeprefix('facesym.')} -> {listed or '(nothing of facesym)'}")
    found = violations(edges)
    if found:
        print(f"{len(found)} upward import(s):", *found, sep="\n  ")
        return 1
    print(f"no upward import among {len(edges)} modules and scripts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
