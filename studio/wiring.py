"""How the tabs' events run: page-only or public, in which queue slot, and with the visitor's gr.Request."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

import gradio as gr

# Public endpoints have names; page-only events are private (not callable by API clients) and skip the queue.
PAGE_ONLY = dict(queue=False, api_visibility="private")
OPTIMIZE_SLOT = dict(concurrency_limit=1, concurrency_id="optimize")  # one optimization at a time
LIGHT_SLOT = dict(concurrency_limit=2, concurrency_id="light")  # restoring a PNG decodes it: queued, not behind a run
FAST_SLOT = dict(concurrency_limit=1, concurrency_id="instant")  # Instant, built-in and trained styles
WEBCAM_SLOT = dict(concurrency_limit=2, concurrency_id="webcam")


def with_request(handler, parameters: Iterable[str | inspect.Parameter]):
    """handler presented to Gradio as taking parameters (names or inspect.Parameters), then a gr.Request.

    Gradio hands a gr.Request only to a parameter its signature names, and *values has no names: the signature
    is written out here from the API's parameter names, so the control table stays the only list of them.
    """
    named = [
        parameter
        if isinstance(parameter, inspect.Parameter)
        else inspect.Parameter(parameter, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for parameter in parameters
    ]
    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request)
    handler.__signature__ = inspect.Signature([*named, request])
    handler.__annotations__ = {"request": gr.Request}
    return handler
