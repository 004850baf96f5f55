"""How much expression each DeepFN normalisation of a finished run carries over onto the template (issue 19).

For every analysed healthy subject it compares the subject's normalised images with the exact template render of
the same trials (the corpus's pairs, equalised) by :func:`facesym.deepfn.normalisation.expression_correlation`:
0 = one face whatever the input (the collapse of issue 19), 1 = the exact render. Histogram equalisation of the
subject's own images is printed beside it as the reference "no transfer, but the expression is all there in the
subject's own geometry". Reads the files of ``snakemake --cores 2 results/deepfn/table.csv``; trains nothing. Run
from the repository root::

    .venv/bin/python benchmarks/bench_deepfn_transfer.py            # results/deepfn by default; --json out.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from facesym.deepfn.corpus import read_corpus
from facesym.deepfn.normalisation import LEARNED, equalise, expression_correlation
from facesym.io import read_h5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results/deepfn"), help="the experiment's folder")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    corpus = read_corpus(str(args.results / "corpus.h5"))
    healthy = [s.name for s in corpus.subjects if s.role == "healthy"]
    exact = {name: equalise(corpus.pairs[name]) for name in healthy}
    columns = {"histeq": {name: equalise(corpus.images[name]) for name in healthy}}
    for method in LEARNED:
        path = args.results / "normalised" / f"{method}.h5"
        if path.exists():
            data = read_h5(path, kind="deepfn-normalised")
            names = [str(n) for n in data.coords["subject"]]
            columns[method] = {n: data.data["images"][i] for i, n in enumerate(names) if n in exact}
    result = {}
    print(f"{'normalisation':<14}{'mean':>8}{'min':>8}{'max':>8}  (expression correlation with the exact render)")
    for method, images in columns.items():
        values = np.array([expression_correlation(images[n], exact[n]) for n in healthy])
        result[method] = {"mean": float(values.mean()), "min": float(values.min()), "max": float(values.max()),
                          "subjects": len(values)}
        print(f"{method:<14}{values.mean():8.3f}{values.min():8.3f}{values.max():8.3f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
