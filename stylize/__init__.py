"""Neural style transfer studio: the public API (stylize, Settings, Progress, presets, networks)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides our own messages

from .quiet import native_stderr_silenced  # noqa: E402

with native_stderr_silenced():
    import tensorflow  # noqa: F401  (loaded here, silently, before the modules below use it)

from .images import load_image, save_png  # noqa: E402
from .networks import FeatureNetwork, NetworkUnavailable, build_network, load_network  # noqa: E402
from .optimize import Progress, stylize  # noqa: E402
from .settings import DEFAULT_PRESET, PRESETS, Settings, preset  # noqa: E402
from .fast import (InstantUnavailable, apply_transformer, instant_stylize, list_trained, load_instant,  # noqa: E402
                   load_transformer, stylize_frame)

__all__ = ["stylize", "Settings", "Progress", "preset", "PRESETS", "DEFAULT_PRESET", "FeatureNetwork",
           "NetworkUnavailable", "build_network", "load_network", "load_image", "save_png",
           "InstantUnavailable", "load_instant", "instant_stylize", "list_trained", "load_transformer",
           "apply_transformer", "stylize_frame"]
