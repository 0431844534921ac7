"""Keeping TensorFlow's native start-up lines (oneDNN, CUDA, absl) off the terminal unless the CLI's --verbose asks."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile

MAX_HELD = 64 * 1024  # bytes of held-back lines kept for --verbose; start-up chatter is a few hundred
_held: list[str] = []  # what was held back so far, shown if --verbose comes after (the package imports TensorFlow
# before any command line is parsed)
_verbose = False


def set_verbose(on: bool = True) -> None:
    """The command line's --verbose: show the lines held back so far, and let later ones through."""
    global _verbose
    _verbose = on
    if on and _held:
        sys.stderr.write("".join(_held))
        sys.stderr.flush()
        _held.clear()


@contextlib.contextmanager
def native_stderr_silenced():
    """Send file descriptor 2 to a temporary file for a while, and hold what arrives there: these lines come from
    C++ before any Python logging is set up, so TF_CPP_MIN_LOG_LEVEL no longer hides them; Python's own errors are
    raised after it is restored."""
    if _verbose:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = held.read(MAX_HELD).decode("utf-8", "replace")
            if text and sum(map(len, _held)) < MAX_HELD:
                _held.append(text)


@functools.lru_cache(maxsize=1)
def gpu_present() -> bool:
    """Whether TensorFlow sees a GPU; asking the first time prints a CUDA line on machines without one."""
    import tensorflow as tf

    with native_stderr_silenced():
        return bool(tf.config.list_physical_devices("GPU"))
