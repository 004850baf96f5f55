"""Which figures a run makes: the config's ``figures`` section resolved against its classifiers and identities.

Plain Python for ``rules/figures.smk``, so the rules file holds rules only and the choice is testable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from facesym.emotions import EMOTIONS

__all__ = ["FIGURE_DEFAULTS", "figure_case", "figure_settings", "figure_targets"]

FIGURE_DEFAULTS: dict[str, Any] = {
    "classifier": None,
    "identity": None,
    "emotion": "happy",
    "onset_steps": 7,
    "render_size": 192,
}
"""The ``figures`` section's keys and defaults: the classifier and identity of Figs. 2–3 (None: the first), the
emotion of Fig. 3 and of Fig. 2's onset strip, the faces in that strip, and the pixels of Fig. 2's renders
(None: the config's render size)."""


def figure_settings(section: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``figures`` section completed with :data:`FIGURE_DEFAULTS`; unknown keys are an error naming them."""
    section = dict(section or {})
    unknown = sorted(set(section) - set(FIGURE_DEFAULTS))
    if unknown:
        raise ValueError(f"config key 'figures.{unknown[0]}' is unknown; known keys: {list(FIGURE_DEFAULTS)}")
    return {**FIGURE_DEFAULTS, **section}


def figure_case(
    settings: Mapping[str, Any], classifiers: Sequence[str], identities: Sequence[str]
) -> tuple[str, str, str]:
    """The (classifier, identity, emotion) that Figs. 2 and 3 show.

    Raises
    ------
    ValueError
        Naming the config key whose value is not one of the run's classifiers, identities or emotions.
    """
    classifier = settings["classifier"] or (classifiers[0] if classifiers else None)
    identity = settings["identity"] or (identities[0] if identities else None)
    for key, value, allowed in (
        ("classifier", classifier, classifiers),
        ("identity", identity, identities),
        ("emotion", settings["emotion"], EMOTIONS),
    ):
        if value not in allowed:
            raise ValueError(f"config key 'figures.{key}': {value!r} is not one of {list(allowed)}")
    return classifier, identity, settings["emotion"]


def figure_targets(settings: Mapping[str, Any], classifiers: Sequence[str], identities: Sequence[str]) -> list[str]:
    """The PDF of every figure of a run (each job writes its PNG and CSV beside it).

    Figs. 2 and 3 for the configured case, Fig. 5 per classifier and the Table 2 heat map; none for a config
    without classifiers.
    """
    if not classifiers:
        return []
    classifier, identity, emotion = figure_case(settings, classifiers, identities)
    return [
        f"results/figures/fig2_expressions_{classifier}_{identity}.pdf",
        f"results/figures/fig3_surface_{classifier}_{identity}_{emotion}.pdf",
        *(f"results/figures/fig5_symmetry_{name}.pdf" for name in classifiers),
        "results/figures/table2_heatmap.pdf",
    ]
