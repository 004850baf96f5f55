"""Expression classifiers behind one interface: embedded networks trained in the pipeline and real models by file.

See :class:`~facesym.classifiers.base.Classifier` for the interface and
:func:`~facesym.classifiers.registry.load_classifier` to build one from a config entry.
"""

from facesym.classifiers.base import Classifier, ClassifierConfigError, Preprocessing, emotion_indices
from facesym.classifiers.embedded import EMBEDDED_CLASSES
from facesym.classifiers.registry import check_entry, load_classifier, model_files

__all__ = [
    "Classifier",
    "ClassifierConfigError",
    "Preprocessing",
    "emotion_indices",
    "EMBEDDED_CLASSES",
    "check_entry",
    "load_classifier",
    "model_files",
]
