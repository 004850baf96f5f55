"""Which figures a run makes: the config's ``figures`` section resolved against its classifiers and identities.

Plain Python for ``rules/figures.smk``, so the choice is testable; the rules name the files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from facesym.emotions import EMOTIONS

__all__ = ["FIGURE_DEFAULTS", "figure_case", "figure_settings"]

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
