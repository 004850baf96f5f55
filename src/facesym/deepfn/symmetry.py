"""How an AU recogniser's output responds to facial symmetry: the impact score applied to AU outputs.

Every palsy subject performs each AU alone over a grid of symmetry ``s`` (the subject's left half moves by
``s``, the right half fully) and onset ``t``. The recogniser's probability of that AU over the grid is a surface
``(S, T)`` exactly like the paper's softmax surfaces, so :func:`facesym.stats.score.impact_score` gives the mean
change of the AU output per symmetry step (or per unit of ``s``). A positive score: the AU output falls when the
affected half moves less — the recogniser reads the AU from both halves, and misses it on a palsied face.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from facesym.deepfn.recogniser import predict
from facesym.stats.score import impact_score

__all__ = ["au_surfaces", "symmetry_scores"]


def au_surfaces(model: nn.Module, grid: np.ndarray) -> np.ndarray:
    """The probability of each AU on its own grid.

    Parameters
    ----------
    model
        A recogniser with one output per AU.
    grid
        Images ``(A, S, T, H, W)`` in [0, 1]: AU ``a`` alone at symmetry ``s`` and onset ``t``.

    Returns
    -------
    np.ndarray
        Shape ``(A, S, T)``: ``P(AU a present)`` on AU ``a``'s grid.
    """
    n_au, n_s, n_t = grid.shape[:3]
    probabilities = predict(model, grid.reshape(-1, *grid.shape[3:])).reshape(n_au, n_s, n_t, -1)
    return probabilities[np.arange(n_au), :, :, np.arange(n_au)]


def symmetry_scores(models: Mapping[int, nn.Module], grids: Mapping[str, np.ndarray], action_units: list[str],
                    statistics: Mapping[str, Any], normalisation: str) -> pd.DataFrame:
    """Impact scores of every (repetition's model, palsy subject, AU).

    Parameters
    ----------
    models
        Repetition -> person-independent recogniser.
    grids
        Palsy subject -> grid images ``(A, S, T, H, W)``.
    action_units
        AU names, length ``A``.
    statistics
        The config's ``statistics`` section (``statistic``, ``spacing``).
    normalisation
        Written into every row.

    Returns
    -------
    pandas.DataFrame
        Columns ``normalisation, repetition, subject, au, score`` (per symmetry step or per unit of s, as
        ``statistics.spacing`` says), ``p_symmetric`` (the AU's probability at s = 1, t = 1) and ``p_frozen_half``
        (at s = 0, t = 1).
    """
    rows = []
    for repetition, model in models.items():
        for subject, grid in grids.items():
            surfaces = au_surfaces(model, grid)
            scores = impact_score(surfaces, spacing=statistics["spacing"], statistic=statistics["statistic"])
            for index, au in enumerate(action_units):
                rows.append({"normalisation": normalisation, "repetition": repetition, "subject": subject, "au": au,
                             "score": float(scores[index]), "p_symmetric": float(surfaces[index, -1, -1]),
                             "p_frozen_half": float(surfaces[index, 0, -1])})
    return pd.DataFrame(rows)
