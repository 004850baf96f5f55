"""Expression classifiers behind one interface: embedded networks trained in the pipeline and real models by file.

A :class:`~facesym.classifiers.base.Classifier` maps rendered images ``(B, C, H, W)`` in ``[0, 1]`` to softmax
probabilities ``(B, K)``, converting colour, resizing and normalising on its own; ``emotion_indices`` says
which of its K outputs are the six emotions. :func:`~facesym.classifiers.registry.load_classifier` builds one
from a ``classifiers`` config entry, for example::

    classifiers:
      - name: cnn_small                 # embedded: trained by the train_classifier rule
        kind: embedded
        architecture: cnn               # cnn | resnet | convnext
        width: 16
        depth: 1
        input_size: 48
      - name: my_fer_model              # a real classifier exported with torch.jit.save
        kind: torchscript               # or onnx (needs the onnx extra), or keras (an HDF5 model, no TensorFlow)
        path: models/my_fer_model.pt
        classes: [angry, disgust, fear, happy, sad, surprise, neutral]   # output order
        input_size: 48
        color: gray
        mean: [0.5]
        std: [0.5]
      - name: my_module                 # Python code + a state dict
        kind: python
        entry_point: "mypackage.models:build"
        weights: models/state_dict.pt   # torch.load(weights_only=True)
        classes: [Anger, Disgust, Fear, Happiness, Neutral, Sadness, Surprise]
        input_size: 224
        color: rgb
        mean: [0.485, 0.456, 0.406]
        std: [0.229, 0.224, 0.225]

Class names are matched to the six emotions case-insensitively and with common synonyms; ``emotion_map``
renames the rest. Loading checks the model against its entry (the file exists, the declared input runs, one
output per class) and stops with a :class:`~facesym.classifiers.base.ClassifierConfigError` naming the entry.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Attributes load on first use, so that the torch-free entry checks (facesym.classifiers.entries), which the
# workflow runs while it validates the config, do not import torch.
_WHERE = {
    "Classifier": "base",
    "ClassifierConfigError": "entries",
    "Preprocessing": "entries",
    "emotion_indices": "entries",
    "check_entry": "entries",
    "EMBEDDED_CLASSES": "embedded",
    "load_classifier": "registry",
    "model_files": "entries",
}

__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'facesym.classifiers' has no attribute '{name}'")
    return getattr(import_module(f"facesym.classifiers.{_WHERE[name]}"), name)
