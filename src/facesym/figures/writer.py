"""Writing a figure: PDF for papers, PNG for the report, and the plotted values as CSV beside them.

Each file is written under a temporary name and renamed into place (:func:`facesym.io.atomic.atomic_path`), so an
interrupted job never leaves a figure that looks complete. The CSV holds exactly the numbers drawn, so a reader
(or a test) can check a figure against the HDF5 files it came from.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from facesym.figures.style import style
from facesym.io.atomic import atomic_path, write_text

__all__ = ["write_figure"]

PNG_DPI = 200
"""Resolution of the PNGs: sharp in the HTML report and on a README page without megabyte files."""


def write_figure(
    figure: Figure,
    *,
    pdf: str | Path | None = None,
    png: str | Path | None = None,
    values: pd.DataFrame | None = None,
    csv: str | Path | None = None,
) -> None:
    """Save ``figure`` as PDF and/or PNG and the plotted ``values`` as CSV, each atomically.

    Parameters
    ----------
    figure
        The figure to save.
    pdf, png
        Destination files; ``None`` skips that format.
    values
        The numbers the figure shows, one row per plotted point or cell.
    csv
        Destination of ``values``; required when ``values`` is given.

    Notes
    -----
    The PDF carries no creation date, so the same data give the same bytes.
    """
    if (values is None) != (csv is None):
        raise ValueError("give both 'values' and 'csv', or neither")
    # The temporary name hides the extension, so the format is named explicitly.
    with style():
        if pdf is not None:
            with atomic_path(pdf) as temporary:
                figure.savefig(temporary, format="pdf", metadata={"CreationDate": None})
        if png is not None:
            with atomic_path(png) as temporary:
                figure.savefig(temporary, format="png", dpi=PNG_DPI)
    if values is not None:
        write_text(csv, values.to_csv(index=False, float_format="%.9g"))
