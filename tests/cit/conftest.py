from collections.abc import Callable

import numpy as np
import pytest
from scipy.special import expit

from facesym.emotions import EMOTIONS

Planted = Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]


def planted_cohort(n: int, seed: int, *, effect: float, binary: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Property, *happy* output and instructed label of a planted cohort.

    Shaped like Experiment 1: six balanced labels; palsy more common among some labels' images and the
    measured symmetry depending on the expression, so the property and the output are marginally dependent
    through the label. The output depends on the property only through ``effect`` (logits per unit of
    asymmetry): ``effect=0`` is a true null X ⟂ Y | Z.
    """
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(len(EMOTIONS)), -(-n // len(EMOTIONS)))[:n]
    palsy = rng.random(n) < 0.25 + 0.08 * codes
    # Probands near full symmetry, patients weakened, plus an expression-dependent measurement offset.
    symmetry = np.where(palsy, rng.uniform(0.5, 0.9, n), rng.normal(0.95, 0.02, n)) - 0.02 * codes
    asymmetry = palsy.astype(float) if binary else (0.95 - symmetry) / 0.2
    logit = np.where(codes == EMOTIONS.index("happy"), 2.5, -2.5) + 0.3 * codes
    happy = expit(logit - effect * asymmetry + rng.normal(0.0, 0.7, n))
    prop = palsy.astype(float) if binary else symmetry
    return prop, happy, np.asarray(EMOTIONS)[codes]


@pytest.fixture
def planted() -> Planted:
    return planted_cohort
