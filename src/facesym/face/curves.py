"""Monotone piecewise-cubic curves through knots (PCHIP), for the procedural face's outline profiles.

Fritsch–Carlson's shape-preserving Hermite interpolant (Fritsch & Butland 1984), the same numbers as
``scipy.interpolate.PchipInterpolator`` evaluated inside its knots; written out because importing
``scipy.interpolate`` was half a second of every rendering job's start-up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["MonotoneCubic"]


def _end_slope(h0: float, h1: float, m0: float, m1: float) -> float:
    """One-sided three-point slope at an end knot, limited so the end segment stays monotone."""
    d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(d) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(d) > 3.0 * abs(m0):
        return 3.0 * m0
    return d


class MonotoneCubic:
    """The PCHIP curve through ``(x, y)``: monotone wherever the knots are, no overshoot at extrema.

    Parameters
    ----------
    x
        Knot abscissae, strictly increasing, at least 3.
    y
        Knot values, same length.
    """

    def __init__(self, x: Sequence[float], y: Sequence[float]) -> None:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape or x.size < 3 or np.any(np.diff(x) <= 0):
            raise ValueError("MonotoneCubic needs at least 3 knots with strictly increasing x and one y per x")
        h = np.diff(x)
        m = np.diff(y) / h
        slope = np.zeros_like(y)
        # Interior knots: weighted harmonic mean of the neighbouring secants, 0 at a local extremum or flat secant.
        flat = (np.sign(m[1:]) != np.sign(m[:-1])) | (m[1:] == 0) | (m[:-1] == 0)
        w1, w2 = 2.0 * h[1:] + h[:-1], h[1:] + 2.0 * h[:-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            harmonic = (w1 / m[:-1] + w2 / m[1:]) / (w1 + w2)
        slope[1:-1] = np.where(flat, 0.0, 1.0 / np.where(flat, 1.0, harmonic))
        slope[0] = _end_slope(h[0], h[1], m[0], m[1])
        slope[-1] = _end_slope(h[-1], h[-2], m[-1], m[-2])
        # Each segment's cubic in powers of (x - x_k), highest first, as a Hermite spline.
        t = (slope[:-1] + slope[1:] - 2.0 * m) / h
        self.x = x
        self.coefficients = np.stack([t / h, (m - slope[:-1]) / h - t, slope[:-1], y[:-1]])  # (4, K - 1)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """The curve at ``points`` (any shape); beyond the knots the end segments' cubics continue."""
        points = np.asarray(points, dtype=np.float64)
        segment = np.clip(np.searchsorted(self.x, points, side="right") - 1, 0, self.x.size - 2)
        s = points - self.x[segment]
        c3, c2, c1, c0 = self.coefficients[:, segment]
        # Summed in the order SciPy's PPoly evaluates, so the two agree bit for bit.
        return ((c0 + c1 * s) + c2 * (s * s)) + c3 * (s * s * s)
