"""What the conditional-independence tests share: the result type, input checks and within-label shuffles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CITResult", "Seed", "check_inputs", "shuffle_within_groups"]

Seed = int | np.random.Generator
"""An integer seed or a NumPy generator: every random draw of this package comes from one of them."""


@dataclass(frozen=True)
class CITResult:
    """Outcome of one test of X ⟂ Y | Z.

    Attributes
    ----------
    test
        Name of the test (``"kci"``, ``"cmiknn"``, ``"fcit"``).
    statistic
        The test's own statistic (KCI: V statistic; CMIknn: conditional mutual information in nats;
        fast CIT: one-sided t statistic of the error ratio). Larger means more evidence of dependence.
    p_value
        p-value in ``[0, 1]`` under the null hypothesis of conditional independence.
    n
        Number of samples.
    settings
        Every setting that produced the numbers (kernel widths, k, permutations, splits, seeds …),
        flat and JSON/CSV friendly.
    """

    test: str
    statistic: float
    p_value: float
    n: int
    settings: dict[str, Any] = field(default_factory=dict)

    def rejects(self, alpha: float) -> bool:
        """Whether the test rejects independence at level ``alpha`` (``p < alpha``, as in the paper)."""
        return bool(self.p_value < alpha)


def check_inputs(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate the three variables and encode the label.

    Parameters
    ----------
    x
        Shape ``(n,)``: the property (binary 0/1 or continuous).
    y
        Shape ``(n,)``: the classifier output (e.g. softmax probability of *happy*).
    z
        Shape ``(n,)``: the discrete conditioning label (any values; strings are fine).

    Returns
    -------
    x, y : numpy.ndarray
        Shape ``(n,)``, float64.
    codes : numpy.ndarray
        Shape ``(n,)``, int: the label as codes ``0 … n_labels-1`` in sorted order of the label values.
    onehot : numpy.ndarray
        Shape ``(n, n_labels)``, float64: one column per label value.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    z = np.asarray(z)
    for name, a in (("x", x), ("y", y), ("z", z)):
        if a.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional (n,), got shape {a.shape}")
    if not (len(x) == len(y) == len(z)):
        raise ValueError(f"x, y and z must have the same length, got {len(x)}, {len(y)} and {len(z)}")
    if len(x) < 10:
        raise ValueError(f"a conditional-independence test needs at least 10 samples, got {len(x)}")
    for name, a in (("x", x), ("y", y)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinite values")
    _, codes = np.unique(z, return_inverse=True)
    codes = codes.reshape(-1)
    onehot = np.eye(codes.max() + 1)[codes]
    return x, y, codes, onehot


def shuffle_within_groups(
    values: np.ndarray, groups: np.ndarray, rng: np.random.Generator, n_shuffles: int | None = None
) -> np.ndarray:
    """Permute ``values`` independently within each group.

    Under H0: X ⟂ Y | Z with a discrete Z, the X values of one label group are exchangeable, so a
    within-group permutation of X draws exactly from the null distribution while keeping X's dependence
    on Z.

    Parameters
    ----------
    values
        Shape ``(n,)``.
    groups
        Shape ``(n,)``: group of every sample (any comparable values).
    rng
        Source of the permutations.
    n_shuffles
        ``None`` for one shuffle, else the number of independent shuffles.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``, or ``(n_shuffles, n)`` when ``n_shuffles`` is given.
    """
    values = np.asarray(values)
    groups = np.asarray(groups)
    count = 1 if n_shuffles is None else n_shuffles
    slots = np.argsort(groups, kind="stable")
    # Sorting by (group, random key) lists each group's members in a random order; writing them back into
    # the group's slots is a uniform permutation within every group.
    keys = rng.random((count, len(values)))
    order = np.lexsort((keys, np.broadcast_to(groups, keys.shape)), axis=-1)
    out = np.empty((count, len(values)), dtype=values.dtype)
    out[:, slots] = values[order]
    return out[0] if n_shuffles is None else out
