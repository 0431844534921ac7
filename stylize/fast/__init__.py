"""Real-time style transfer: the instant arbitrary-style network, built-in and trained styles, webcam frames."""

from .bundled import (
    NUM_BUILTIN,
    BuiltinStyle,
    BundledNetworks,
    BundledUnavailable,
    builtin_stylize,
    builtin_weights,
    load_bundled,
)
from .instant import InstantModel, InstantUnavailable, instant_stylize, load_instant
from .live import stylize_frame
from .training import NoTrainingImages, TrainProgress, TrainSettings, train
from .transformer import apply_transformer, build_transformer, list_trained, load_transformer

__all__ = [
    "NUM_BUILTIN",
    "BuiltinStyle",
    "BundledNetworks",
    "BundledUnavailable",
    "builtin_stylize",
    "builtin_weights",
    "load_bundled",
    "InstantModel",
    "InstantUnavailable",
    "instant_stylize",
    "load_instant",
    "stylize_frame",
    "NoTrainingImages",
    "TrainProgress",
    "TrainSettings",
    "train",
    "apply_transformer",
    "build_transformer",
    "list_trained",
    "load_transformer",
]
