"""Keeping TensorFlow's native start-up lines (oneDNN, CUDA, absl) off the terminal unless asked for."""

from __future__ import annotations

import contextlib
import functools
import os
import sys

VERBOSE = "--verbose" in sys.argv or os.environ.get("STYLIZE_VERBOSE") == "1"


@contextlib.contextmanager
def native_stderr_silenced():
    """Send file descriptor 2 to /dev/null for a while: these lines come from C++ before any Python logging is
    set up, so TF_CPP_MIN_LOG_LEVEL no longer hides them; Python's own errors are raised after it is restored."""
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


@functools.lru_cache(maxsize=1)
def gpu_present() -> bool:
    """Whether TensorFlow sees a GPU; asking the first time prints a CUDA line on machines without one."""
    import tensorflow as tf

    with native_stderr_silenced():
        return bool(tf.config.list_physical_devices("GPU"))
