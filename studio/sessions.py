"""Each visitor's run: one waiting or running at a time, Stop, and weights steered while it runs."""

from __future__ import annotations

import functools
import math
import threading
import time

import gradio as gr

from stylize.weights import LossWeights

from . import hosting
from .controls import weights_from_sliders


class Session:
    """What a running job reads between steps: Stop, and the weights the sliders were moved to."""

    def __init__(self, weights: LossWeights):
        self.stop = threading.Event()
        self.weights = weights


running: dict[str, Session] = {}  # only sessions with a run in progress
waiting: dict[str, float] = {}  # sessions with a run queued or running (one each), since when
started: set[str] = set()  # sessions whose run has left the queue
cancelled: set[str] = set()  # sessions that pressed Stop while their run was still waiting in the queue


def session_key(request: gr.Request | None) -> str:
    return request.session_hash if request is not None else "default"


def make_claim(run):
    """The check run before a Stylize request joins the queue: one waiting or running run per session.

    It takes run's own parameters (Gradio calls a validator with the same inputs), whatever controls are added.
    """
    @functools.wraps(run)  # run's signature and annotations: Gradio then hands it gr.Request where run takes one
    def claim(*values):
        request = next((value for value in values if isinstance(value, gr.Request)), None)
        key = session_key(request)
        accepted = [gr.validate(True, "")] * (len(values) - (request is not None))
        if key in waiting and time.monotonic() - waiting[key] < hosting.MAX_SECONDS * (hosting.QUEUE_SIZE + 1):
            return [gr.validate(False, "You already have a run waiting or running: wait for it, or press Stop.")] \
                + accepted[1:]
        waiting[key] = time.monotonic()
        return accepted

    return claim


def steer(style_log, content_log, tv_log, request: gr.Request = None):
    """Moving a weight slider during a run takes effect from its next step."""
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (style_log, content_log, tv_log)):
        raise gr.Error(f"weights are {style_log!r}, {content_log!r}, {tv_log!r} but must be finite numbers")
    session = running.get(session_key(request))
    if session is not None:
        session.weights = weights_from_sliders(style_log, content_log, tv_log)


def stop(request: gr.Request = None):
    """A running run stops at its next step, keeping its picture; a waiting one is dropped when its turn comes
    (Gradio's cancels= would also close a running one before it could save and show what it had)."""
    key = session_key(request)
    session = running.get(key)
    if session is not None:
        session.stop.set()
    elif key in waiting and key not in started:
        cancelled.add(key)
        waiting.pop(key, None)


def end_session(request: gr.Request = None):
    """The page was closed: its results folder goes, and anything it left waiting."""
    key = session_key(request)
    waiting.pop(key, None)
    cancelled.discard(key)
    hosting.remove_results(key)
