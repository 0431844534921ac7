"""Engine errors as the page's one-line messages, mapped in one place; a fast call checked, reserved and timed."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field

import gradio as gr
import numpy as np

from stylize.core import images
from stylize.core.costs import decode_bytes, fast_bytes
from stylize.core.errors import NetworkUnavailable
from stylize.core.limits import BUDGET, DECODE_MARGIN

from . import hosting
from .controls import SIZE_SLIDER

# What the engine raises for a person to act on: a value or upload out of range, a network it can't have (instant,
# built-in: NetworkUnavailable's subclasses), a file it can't read, memory it ran out of. Anything else is a bug.
ENGINE_ERRORS = (ValueError, NetworkUnavailable, OSError, MemoryError)


def message(error: BaseException, what: str, smaller: str) -> str:
    """An engine error's one line: its own text, or for MemoryError (which has none) what to choose instead."""
    if isinstance(error, MemoryError):
        return f"{what} ran out of memory: choose a smaller {smaller}"
    return str(error)


@contextlib.contextmanager
def page_errors(what: str = "this request", smaller: str = "size", name: str = ""):
    """The block's engine errors as the one line the page shows, server paths removed: the only place they become
    gr.Error. A gr.Error raised inside (a ValueError too) is already that line; name, if given, starts it."""
    try:
        yield
    except gr.Error:
        raise
    except ENGINE_ERRORS as error:
        line = message(error, what, smaller)
        raise gr.Error(hosting.public(f"{name}: {line}" if name else line)) from None


@dataclass
class Timed:
    """A call's time: seconds from its start (before its network is loaded) to its end."""

    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0


@contextlib.contextmanager
def fast_call(side, *uploads, what: str = "this picture", name: str = ""):
    """A fast network's call at longer side side on uploads (what it decodes: paths, data URLs' bytes): the side
    checked, the call's memory and the uploads' decoding reserved from the process's budget (shared with the
    optimizer and the webcam), its errors mapped (page_errors); yields its Timed."""
    timed = Timed()
    with page_errors(what, name=name):
        hosting.check_side(side)
        needed = fast_bytes(checked_side(side)) + upload_bytes(*uploads)
        with BUDGET.reserve(needed, what):
            yield timed
    timed.seconds = time.perf_counter() - timed.started


def upload_bytes(*sources) -> int:
    """What decoding these uploads holds at its peak, summed, from their headers (read without decoding anything);
    None, or a picture already decoded in this process, costs nothing here."""
    total = 0
    for source in sources:
        if isinstance(source, (str, os.PathLike, bytes)):
            try:
                total += decode_bytes(images.read_header(source).pixels)
            except ValueError:
                pass  # decoding starts with the same check (images.open_image), and refuses it in its own words
    return total


def checked_side(side) -> int:
    """A size slider's value from a stranger: a number within the sliders' range, before anything uses it."""
    if not isinstance(side, (int, float)) or not SIZE_SLIDER[0] <= side <= SIZE_SLIDER[1] * DECODE_MARGIN:
        raise ValueError(f"size is {side!r} but must be from {SIZE_SLIDER[0]} to {SIZE_SLIDER[1]} px")
    return int(side)


def decoded(source, what: str, side) -> np.ndarray:
    """An upload decoded straight to longer side at most side: float RGB."""
    return images.load_image(source, what, checked_side(side))
