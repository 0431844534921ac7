"""Neural style transfer studio: the public API (stylize, Settings, Progress, presets, networks)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides our own messages

from .core.quiet import gpu_present, native_stderr_silenced  # noqa: E402

with native_stderr_silenced():
    import tensorflow  # noqa: F401  (loaded here, silently, before the modules below use it)
gpu_present()  # the first look for devices prints a CUDA line where there is no GPU: held back like the rest

from .core.errors import NetworkUnavailable  # noqa: E402
from .core.images import load_image, save_png  # noqa: E402
from .core.settings import DEFAULT_PRESET, PRESETS, Settings, preset  # noqa: E402
from .fast import (  # noqa: E402
    InstantUnavailable,
    apply_transformer,
    instant_stylize,
    list_trained,
    load_instant,
    load_transformer,
    stylize_frame,
)
from .gatys.loop import Progress  # noqa: E402
from .gatys.networks import FeatureNetwork, build_network, load_network  # noqa: E402
from .transfer import stylize  # noqa: E402

__all__ = [
    "stylize",
    "Settings",
    "Progress",
    "preset",
    "PRESETS",
    "DEFAULT_PRESET",
    "FeatureNetwork",
    "NetworkUnavailable",
    "build_network",
    "load_network",
    "load_image",
    "save_png",
    "InstantUnavailable",
    "load_instant",
    "instant_stylize",
    "list_trained",
    "load_transformer",
    "apply_transformer",
    "stylize_frame",
]
