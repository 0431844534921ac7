"""Each visitor's runs: one claim per Stylize event, per client, under a lock; Stop; throttled steering; streams."""

from __future__ import annotations

import inspect
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import gradio as gr

from stylize.gatys.weights import LossWeights

from . import hosting
from .controls import weights_from_sliders
from .wiring import with_request

GRACE = 5.0  # seconds a claim may take to show up in Gradio's queue (the validator answers before it is queued)
STEER_SECONDS = 3.0  # at most one re-weighting this often: each restarts L-BFGS, a new weight retraces the step
BUSY = "You already have a run waiting or running: wait for it, or press Stop."
FULL = "The optimizer's queue is full: try again in a few minutes (the Instant tab is free now)."


@dataclass(eq=False)
class Claim:
    """One Stylize event, from the validator's yes to the end of its run; what the run reads between steps."""

    client: str
    session: str | None
    made: float = field(default_factory=time.monotonic)
    started: bool = False
    cancelled: bool = False  # Stop while it waited: its turn gives the slot straight back
    stop: threading.Event = field(default_factory=threading.Event)
    wanted: LossWeights | None = None  # where the sliders were last moved
    applied: LossWeights | None = None  # what the run uses
    applied_at: float = 0.0

    def steering(self) -> LossWeights | None:
        """The weights for the next step: the sliders' latest, but no sooner than STEER_SECONDS after the last."""
        if self.wanted is not self.applied and time.monotonic() - self.applied_at >= STEER_SECONDS:
            self.applied, self.applied_at = self.wanted, time.monotonic()
        return self.applied


class Runs:
    """The optimizer's claims: at most one live (plus one stopped, still leaving the queue) per client, and
    hosting.MAX_RUNS in all, checked against Gradio's queue so that claims whose events left it are dropped."""

    def __init__(self):
        self._lock = threading.Lock()
        self._claims: list[Claim] = []

    def claim(self, client: str, session: str | None, request=None) -> str | None:
        """Take a place for a new event; the reason it is refused, or None."""
        with self._lock:
            self._drop_gone(hosting.events_by_client(request, "optimize") if request is not None else None)
            mine = [claim for claim in self._claims if claim.client == client]
            if any(not claim.cancelled for claim in mine) or len(mine) >= 2:
                return BUSY
            if len(self._claims) >= hosting.MAX_RUNS:
                return FULL
            self._claims.append(Claim(client, session))
            return None

    def start(self, client: str, session: str | None) -> Claim | None:
        """The event's turn came: its claim (the client's oldest waiting one), or None if Stop cancelled it."""
        with self._lock:
            claim = next((c for c in self._claims if c.client == client and not c.started), None)
            if claim is None:  # dropped as gone while it was being picked: it still counts from now
                claim = Claim(client, session)
                self._claims.append(claim)
            if claim.cancelled:
                self._claims.remove(claim)
                return None
            claim.started, claim.session = True, session
            return claim

    def finish(self, claim: Claim) -> None:
        with self._lock:
            if claim in self._claims:
                self._claims.remove(claim)

    def stop(self, session: str | None) -> None:
        """A running run stops at its next step; a waiting one is cancelled (dropped when its turn comes)."""
        with self._lock:
            for claim in self._claims:
                if claim.session == session and session is not None:
                    if claim.started:
                        claim.stop.set()
                    else:
                        claim.cancelled = True

    def steer(self, session: str | None, weights: LossWeights) -> None:
        with self._lock:
            for claim in self._claims:
                if claim.session == session and session is not None and claim.started:
                    claim.wanted = weights

    def waiting(self, client: str | None = None) -> int:
        """Live claims not yet started (all clients', or one's)."""
        return sum(
            1 for claim in self._claims if not claim.started and not claim.cancelled and client in (None, claim.client)
        )

    def _drop_gone(self, queued: Counter | None) -> None:
        """Drop a client's oldest unstarted claims beyond its events in Gradio's queue (cancelled, page closed)."""
        if queued is None:
            return
        for client in {claim.client for claim in self._claims}:
            mine = [claim for claim in self._claims if claim.client == client]
            unstarted = [claim for claim in mine if not claim.started]
            extra = len(unstarted) - max(0, queued[client] - (len(mine) - len(unstarted)))
            for claim in unstarted[: max(0, extra)]:
                if time.monotonic() - claim.made > GRACE:
                    self._claims.remove(claim)


class Streams:
    """Webcam streams: one per client and hosting.MAX_STREAMS in all, from Gradio's queue plus recent joins."""

    def __init__(self):
        self._lock = threading.Lock()
        self._joining: list[tuple[str, float]] = []

    def claim(self, client: str, request=None) -> str | None:
        with self._lock:
            now = time.monotonic()
            self._joining = [(who, since) for who, since in self._joining if now - since < GRACE]
            counts = hosting.events_by_client(request, "webcam") + Counter(who for who, _ in self._joining)
            if counts[client]:
                return "You already have a camera stream (or just stopped one): try again in a few seconds."
            if sum(counts.values()) >= hosting.MAX_STREAMS:
                return "Every camera slot on this server is taken: try again in a minute."
            self._joining.append((client, now))
            return None


runs = Runs()
streams = Streams()


def session_key(request: gr.Request | None) -> str:
    return request.session_hash if request is not None and request.session_hash else "default"


def validator(check):
    """A Gradio validator for handler: check(request) gives a refusal or None; every input is otherwise fine.

    It takes handler's own parameters (Gradio calls a validator with the same inputs), whatever inputs are added.
    """

    def wrap(handler):
        def claim(*values, **named):
            values = [*values, *named.values()]
            request = next((value for value in values if isinstance(value, gr.Request)), None)
            refusal = check(request)
            inputs = len(values) - (request is not None)
            return [gr.validate(refusal is None, refusal or "")] + [gr.validate(True, "")] * (inputs - 1)

        return with_request(
            claim,
            [
                parameter
                for parameter in inspect.signature(handler).parameters.values()
                if parameter.annotation is not gr.Request and parameter.name != "request"
            ],
        )

    return wrap


def make_claim(run):
    """The check before a Stylize request joins the queue: a claim for its client (see Runs)."""
    return validator(
        lambda request: runs.claim(hosting.client_address(request), getattr(request, "session_hash", None), request)
    )(run)


def make_stream_claim(handler):
    """The check before a webcam stream joins the queue: one per client (see Streams)."""
    return validator(lambda request: streams.claim(hosting.client_address(request), request))(handler)


def steer(style_log, content_log, tv_log, request: gr.Request = None):
    """Moving a weight slider during a run takes effect from a next step (at most one change every few seconds)."""
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (style_log, content_log, tv_log)):
        raise gr.Error(f"weights are {style_log!r}, {content_log!r}, {tv_log!r} but must be finite numbers")
    runs.steer(getattr(request, "session_hash", None), weights_from_sliders(style_log, content_log, tv_log))


def stop(request: gr.Request = None):
    """A running run stops at its next step, keeping its picture; a waiting one is dropped when its turn comes
    (Gradio's cancels= would also close a running one before it could save and show what it had)."""
    runs.stop(getattr(request, "session_hash", None))


def end_session(request: gr.Request = None):
    """The page was closed: its results folder goes (its queued events leave Gradio's queue, and so their claims)."""
    runs.stop(getattr(request, "session_hash", None))
    hosting.remove_results(session_key(request))
