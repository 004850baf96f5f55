"""The paper's figures from the pipeline's files: plain functions from arrays/DataFrames to matplotlib Figures.

- :func:`expressions_figure` — Fig. 2: optimised expressions φ^(e) and an onset strip at s = 0;
- :func:`surface_figure` — Fig. 3: a surface F^(e)(s, t) beside its ∂F/∂s map;
- :func:`symmetry_figure` — Fig. 5: mean ± std activation at t = 1 across identities versus symmetry;
- :func:`table2_figure` — Table 2 as a heat map with the significant identities per cell;
- :func:`write_figure` — PDF, PNG and the plotted values as CSV, each written atomically.

No Snakemake here; :mod:`facesym.pipeline.figures` reads the pipeline's files for the workflow's scripts.
"""

from facesym.figures.expression_panels import expression_panels, expressions_figure, onset_indices, render_panels
from facesym.figures.style import EMOTION_COLORS
from facesym.figures.surface import derivative_along_s, surface_figure, surface_values
from facesym.figures.symmetry import symmetry_curves, symmetry_figure
from facesym.figures.table2 import table2_figure, table2_html, table2_values
from facesym.figures.writer import write_figure

__all__ = [
    "EMOTION_COLORS",
    "derivative_along_s",
    "expression_panels",
    "expressions_figure",
    "onset_indices",
    "render_panels",
    "surface_figure",
    "surface_values",
    "symmetry_curves",
    "symmetry_figure",
    "table2_figure",
    "table2_html",
    "table2_values",
    "write_figure",
]
