"""Neural style transfer studio: the public API (stylize, Settings, Progress, presets, networks)."""

import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides our own messages
VERBOSE = "--verbose" in sys.argv or os.environ.get("STYLIZE_VERBOSE") == "1"


@contextlib.contextmanager
def _quiet_native_stderr():
    """Send file descriptor 2 to /dev/null while TensorFlow loads: its oneDNN, CUDA and absl lines come from C++
    before any Python logging is set up (TF_CPP_MIN_LOG_LEVEL no longer hides them); Python's errors still show."""
    if VERBOSE:
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _quiet_native_stderr():
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
