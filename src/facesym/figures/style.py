"""Shared look of the facesym figures: emotion colours, font sizes and a figure factory.

Figures are built with the object-oriented API on an Agg canvas (``matplotlib.figure.Figure``), never through
``pyplot``: no global backend is switched, nothing leaks between figures, and the library behaves the same in a
batch job, a test and a notebook.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import ParamSpec, TypeVar

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from facesym.emotions import NEUTRAL

__all__ = ["EMOTION_COLORS", "FONT_SIZE", "new_figure", "style", "styled"]

# Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
EMOTION_COLORS: dict[str, str] = {
    "angry": "#D55E00",
    "disgust": "#009E73",
    "fear": "#CC79A7",
    "happy": "#E69F00",
    "sad": "#0072B2",
    "surprise": "#56B4E9",
    NEUTRAL: "#000000",
}
"""Emotion -> colour, the same in every figure."""

FONT_SIZE = 9
"""Base font size in points: readable at the figures' print width (about 17 cm)."""

_RC = {
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE,
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": FONT_SIZE - 1,
    "ytick.labelsize": FONT_SIZE - 1,
    "legend.fontsize": FONT_SIZE - 1,
    "figure.titlesize": FONT_SIZE + 1,
    "pdf.fonttype": 42,  # TrueType in PDFs: text stays editable and searchable in journals' tools
}

P = ParamSpec("P")
R = TypeVar("R")


def style() -> AbstractContextManager:
    """The facesym rc settings as a context: needed while drawing and while saving (PDF font type)."""
    return matplotlib.rc_context(_RC)


def styled(function: Callable[P, R]) -> Callable[P, R]:
    """Run a figure function under :func:`style` (fonts are fixed when text is created, so wrap the body)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with style():
            return function(*args, **kwargs)

    return wrapper


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` × ``height`` inches with constrained layout on an Agg canvas.

    Constrained layout keeps titles, tick labels, colour bars and legends inside the saved image.
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig
