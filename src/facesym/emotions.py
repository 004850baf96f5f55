"""The six basic emotions, in the order every array and table of facesym uses."""

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise")
"""Ekman's six basic emotions, alphabetical. Axis ``emotion`` of every output follows this order."""

NEUTRAL = "neutral"
