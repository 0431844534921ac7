"""The HTTP gate in front of Gradio: only the routes the page and the API use, no fetched URLs, typed and bounded
inputs, each visitor's share of uploads, sessions and queue places, and no server path in an error."""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

import gradio as gr
from starlette.requests import HTTPConnection

from . import hosting
from .components import MAX_MASK_LAYERS

API = "/gradio_api"
# (methods, path pattern) of everything the page, gradio_client and the documented API reach; the rest is 404.
# Closed among Gradio's own: deep_link (writes a session's state to disk), process_recording (runs ffmpeg),
# dev/reload (a polling loop per connection), run/{api_name} (skips the queue), monitoring, login, vibe editing.
ROUTES = [
    (("GET", "HEAD"), r"/|/config/?|/favicon\.ico|/theme\.css|/robots\.txt|/manifest\.json|/pwa_icon(/\d+)?"),
    (("GET", "HEAD"), r"/(assets|static|svelte)/[\w./@-]+"),
    (("GET", "HEAD"), API + r"/(info/?|startup-events|file=.+|heartbeat/[\w-]+|queue/data|upload_progress)"),
    (("GET",), API + r"/call/\w+/[\w-]+"),
    (("POST",), API + r"/(queue/join|run/predict|upload|cancel|call/\w+/?|stream/[\w-]+(/close)?)"),
]
ALLOWED = [(methods, re.compile(pattern)) for methods, pattern in ROUTES]
EVENT_ROUTES = re.compile(API + r"/(queue/join|run/predict|call/\w+/?)")  # bodies naming an event and its inputs
STREAM_ROUTE = re.compile(API + r"/stream/[\w-]+")  # a streaming event's next inputs (webcam frames)

WINDOW = 600.0  # seconds over which a visitor's uploads and new sessions are counted


@dataclass(frozen=True)
class Shares:
    """What one visitor may start in WINDOW; a host changes them with these environment variables."""

    # upload requests: a page sends one a file, gradio_client one a file a call (a loop of calls: about 25 a minute)
    uploads: int = int(os.environ.get("STYLIZE_VISITOR_UPLOADS", 300))
    # what those carry together: uploads are kept until swept (hosting.CACHE_AGE), so this bounds a visitor's disk;
    # at least two of the largest clips a server takes (hosting.VIDEO_LIMITS)
    upload_bytes: int = int(
        float(os.environ.get("STYLIZE_VISITOR_UPLOAD_MB", max(200, 2 * hosting.VIDEO_LIMITS.max_bytes / 2**20))) * 2**20
    )
    sessions: int = int(os.environ.get("STYLIZE_VISITOR_SESSIONS", 30))  # new session hashes: Gradio keeps a state each


MAX_EVENTS = 2  # events one visitor may hold in one slot's queue (one running, one waiting)
MAX_TEXT = 2000  # characters in a text, dropdown or radio value; the page's longest is a blend of 26 styles
MAX_OTHER_JSON = 10_000  # encoded bytes of any other value (event data, gr.api's numbers)
GRACE = 2.0  # seconds a join counts before Gradio's queue shows it (a second join may arrive meanwhile)


class Refusal(Exception):
    """A request the gate answers itself: an HTTP status and the one line the client reads."""

    def __init__(self, status: int, line: str):
        super().__init__(line)
        self.status = status


class Gate:
    """ASGI middleware: checks each request against the allow-list and the visitor's share, and each event's
    inputs against its components, before Gradio parses, stores or queues anything; scrubs error answers."""

    def __init__(self, app, shares: Shares | None = None):
        self.app = app
        self.visitors = Visitors(shares or Shares())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            connection = HTTPConnection(scope)
            check_route(scope["method"], scope["path"])
            receive = await self.checked(scope, receive, connection)
        except Refusal as refusal:
            return await answer(send, refusal.status, hosting.public(str(refusal)))
        joined = self.visitors.joining.get(id(scope))
        try:
            await self.app(scope, receive, scrubbing(send))
        finally:
            if joined:
                self.visitors.joined(id(scope))

    async def checked(self, scope, receive, connection: HTTPConnection):
        """Count what the request takes of the visitor's share; a JSON event body is read, checked and replayed."""
        path, query, client = scope["path"], connection.query_params, hosting.client_address(connection)
        if path == API + "/upload":
            size = dict(scope["headers"]).get(b"content-length", b"")
            if not size.isdigit():  # counted against the visitor's share by its length: a chunked one has none
                raise Refusal(411, "an upload must say its length (Content-Length): send it as a browser does")
            self.visitors.upload(client, int(size), query.get("upload_id"))
        elif path == API + "/upload_progress":
            await self.visitors.uploaded(client, query.get("upload_id"))
        if scope["method"] != "POST" or not (EVENT_ROUTES.fullmatch(path) or STREAM_ROUTE.fullmatch(path)):
            return receive
        body = await read_body(receive)  # bounded by BoundedBodies, which runs first
        payload = parsed(body)
        refuse_urls(payload)
        if EVENT_ROUTES.fullmatch(path):
            blocks = scope["app"].get_blocks()
            fn = event_function(blocks, path, payload)
            self.visitors.session(client, payload.get("session_hash"))
            if not path.endswith("/run/predict"):
                self.visitors.join(client, fn.concurrency_id, blocks, id(scope))
        return replay(body)


class Visitors:
    """Each visitor's uploads, new sessions and queue places, counted under one lock."""

    def __init__(self, shares: Shares):
        self.shares = shares
        self._lock = threading.Lock()
        self._uploads: dict[str, deque] = defaultdict(deque)  # client -> (time, bytes, upload id)
        self._sessions: dict[str, deque] = defaultdict(deque)  # client -> (time, session hash)
        self.joining: dict[int, tuple[str, str, float]] = {}  # request -> (client, slot, since): not yet queued

    def upload(self, client: str, size: int, upload_id: str | None) -> None:
        with self._lock:
            recent = in_window(self._uploads, client)
            if (
                len(recent) >= self.shares.uploads
                or sum(entry[1] for entry in recent) + size > self.shares.upload_bytes
            ):
                raise Refusal(429, "you have uploaded a lot in the last 10 minutes: try again in a few minutes")
            recent.append((time.monotonic(), size, upload_id))

    async def uploaded(self, client: str, upload_id: str | None) -> None:
        """An upload's progress is followed only for an upload of this visitor's (Gradio keeps an event for every
        id it is asked about); the page may ask just before the upload starts, so wait as Gradio does."""
        for _ in range(60):
            with self._lock:
                if upload_id and any(entry[2] == upload_id for entry in self._uploads.get(client, ())):
                    return
            await asyncio.sleep(0.05)
        raise Refusal(404, "Upload not found")

    def session(self, client: str, session_hash) -> None:
        if session_hash is None:
            return  # Gradio refuses a join without one itself
        if not isinstance(session_hash, str) or not re.fullmatch(r"[\w-]{1,64}", session_hash):
            raise Refusal(400, "the session hash must be up to 64 letters, digits, - or _")
        with self._lock:
            recent = in_window(self._sessions, client)
            if any(known == session_hash for _, known in recent):
                return
            if len(recent) >= self.shares.sessions:
                raise Refusal(429, "too many new sessions from your address: reload the page in a few minutes")
            recent.append((time.monotonic(), session_hash))

    def join(self, client: str, slot: str, blocks, request: int) -> None:
        """Take a place in a slot's queue: MAX_EVENTS per visitor, and the fast tabs' slots together leave
        hosting.MAX_RUNS places of the queue to Stylize (whose own claims, sessions.Runs, say who gets them)."""
        with self._lock:
            now = time.monotonic()
            self.joining = {key: entry for key, entry in self.joining.items() if now - entry[2] < GRACE}
            queued = queued_events(blocks) + [(who, where) for who, where, _ in self.joining.values()]
            if sum(1 for who, where in queued if who == client and where == slot) >= MAX_EVENTS:
                raise Refusal(429, "you already have a request waiting here: wait for it to finish")
            if slot != "optimize" and sum(1 for _, where in queued if where != "optimize") >= FAST_PLACES:
                raise Refusal(503, "the queue is full: try again in a minute")
            self.joining[request] = (client, slot, now)

    def joined(self, request: int) -> None:
        """Gradio answered the join: from now on its queue shows the event (or it was refused)."""
        with self._lock:
            self.joining.pop(request, None)


FAST_PLACES = hosting.QUEUE_SIZE - hosting.MAX_RUNS


def in_window(by_client: dict[str, deque], client: str) -> deque:
    """client's entries of the last WINDOW (oldest first), for adding to; visitors with none left are forgotten, so
    the record holds only the last WINDOW's visitors however many came before."""
    for who in list(by_client):
        entries = by_client[who]
        while entries and time.monotonic() - entries[0][0] > WINDOW:
            entries.popleft()
        if not entries and who != client:
            del by_client[who]
    return by_client[client]


def queued_events(blocks) -> list[tuple[str, str]]:
    """(client, slot) of every event Gradio's queue holds, waiting or running."""
    queue = blocks._queue
    waiting = [event for group in queue.event_queue_per_concurrency_id.values() for event in group.queue]
    running = [event for job in queue.active_jobs if job for event in job]
    return [(hosting.client_address(event.request), event.concurrency_id) for event in [*waiting, *running]]


def check_route(method: str, path: str) -> None:
    if not any(method in methods and pattern.fullmatch(path) for methods, pattern in ALLOWED):
        raise Refusal(404, "Not Found")


async def read_body(receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refusal(400, "the request ended before its body")
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def replay(body: bytes):
    """A receive that hands Gradio the body already read, then waits for the client to go, as Starlette's does."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def parsed(body: bytes) -> dict:
    try:
        payload = json.loads(body, parse_constant=not_finite)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal(400, "the request's body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise Refusal(400, "the request's body must be a JSON object with a list of inputs as data")
    return payload


def not_finite(constant: str):
    """Python's JSON reader takes NaN and Infinity, which strict JSON has no word for; nothing here needs them."""
    raise Refusal(400, f"the request holds {constant} but every number must be finite")


def event_function(blocks, path: str, payload: dict):
    """The event a body names (by fn_index, or the API name in the path), checked: its inputs and the body's
    other fields against their bounds, and no file given as a URL."""
    if "/call/" in path:
        name = path.rstrip("/").rsplit("/", 1)[1]
        fn = next((fn for fn in blocks.fns.values() if fn.api_name == name and fn.api_visibility == "public"), None)
    else:
        index = payload.get("fn_index")
        fn = blocks.fns.get(index) if isinstance(index, int) and not isinstance(index, bool) else None
    if fn is None:
        raise Refusal(404, "no such event on this server")
    if path.endswith("/run/predict") and fn.queue:
        raise Refusal(400, "this event runs through the queue: join it there")
    refuse_urls(payload)
    data = payload["data"]
    # The /call/ API leaves out what the server keeps (gr.State): Gradio puts it back.
    inputs = [c for c in fn.inputs if not isinstance(c, gr.State)] if "/call/" in path else fn.inputs
    if len(data) != len(inputs):
        raise Refusal(400, f"this event takes {len(inputs)} inputs but the request has {len(data)}")
    for component, value in zip(inputs, data):
        check_value(component, value)
    if len(json.dumps(payload.get("event_data"))) > MAX_OTHER_JSON:
        raise Refusal(400, "the request's event data is too large")
    return fn


def refuse_urls(value: Any) -> None:
    """Gradio downloads a file whose path is a URL before any handler runs: no size cap, redirects followed."""
    if isinstance(value, dict):
        path = value.get("path")
        if isinstance(path, str) and "://" in path:
            raise Refusal(400, "a file must be uploaded to this server, not named by a URL: upload the file itself")
        for item in value.values():
            refuse_urls(item)
    elif isinstance(value, list):
        for item in value:
            refuse_urls(item)


def check_value(component, value) -> None:
    """A value from a stranger against what its component can hold, before Gradio stores or preprocesses it."""
    label = getattr(component, "label", None) or type(component).__name__
    problem = value_problem(component, value)
    if problem:
        raise Refusal(400, f"{label} {problem}")


def value_problem(component, value) -> str:
    if isinstance(component, gr.State):
        return "" if value in (None, [], {}) else "is kept by the server: send null"  # Gradio uses its own copy
    if isinstance(component, (gr.Slider, gr.Number)):
        if value is None and isinstance(component, gr.Number):
            return ""
        if not is_number(value):
            return f"is {short(value)} but must be a finite number"
        low, high = component.minimum, component.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            return f"is {value} but must be from {low} to {high}"
        return ""
    if isinstance(component, gr.Checkbox):
        return "" if isinstance(value, bool) else f"is {short(value)} but must be true or false"
    if isinstance(component, gr.Radio) and value is not None:  # a radio's choices are fixed (a dropdown's may change)
        values = [choice for _, choice in component.choices]  # Gradio keeps them as (label, value) pairs
        if value not in values:
            return f"is {short(value)} but must be one of {', '.join(map(str, values))}"
        return ""
    if isinstance(component, (gr.Textbox, gr.Dropdown)):
        if value is None or is_number(value) or (isinstance(value, str) and len(value) <= MAX_TEXT):
            return ""
        return f"must be a text of at most {MAX_TEXT} characters"
    if isinstance(component, gr.ImageEditor):
        return editor_problem(value)
    if isinstance(component, (gr.Image, gr.File, gr.Video)):  # gr.Video: the Video tab's clip
        return "" if value is None or is_file(value) else "must be an uploaded file or null"
    if isinstance(component, gr.Dataset):
        return "" if value is None or (isinstance(value, int) and 0 <= value < 1000) else "must be an example's index"
    if len(json.dumps(value)) > MAX_OTHER_JSON:
        return "is too large"
    return ""


def editor_problem(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, dict) or not set(value) <= {"background", "layers", "composite", "id"}:
        return "must be the mask editor's layers or null"
    layers = value.get("layers") or []
    if not isinstance(layers, list) or len(layers) > MAX_MASK_LAYERS:
        return f"may have at most {MAX_MASK_LAYERS} layers"
    files = [value.get("background"), value.get("composite"), *layers]
    return "" if all(item is None or is_file(item) for item in files) else "must hold uploaded files"


FILE_FIELDS = {"path", "url", "size", "orig_name", "mime_type", "is_stream", "meta"}


def is_file(value) -> bool:
    """A FileData-shaped dict (what the page and gradio_client send for an upload); its path is checked later."""
    return (
        isinstance(value, dict) and set(value) <= FILE_FIELDS and isinstance(value.get("path", ""), (str, type(None)))
    )


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


async def answer(send, status: int, line: str) -> None:
    body = json.dumps({"detail": line}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def scrubbing(send):
    """send, with server paths taken out of every error a client reads: error answers whole, and the error
    messages in event streams (their other data, such as result files' addresses, is left as it is)."""
    state = {"error": False, "stream": False, "held": []}

    async def scrubbed(message):
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            state["stream"] = headers.get(b"content-type", b"").startswith(b"text/event-stream")
            state["error"] = message["status"] >= 400 and not state["stream"]
            if state["error"]:  # the length changes with the text: sent once the body is known
                state["start"] = {**message, "headers": [h for h in message["headers"] if h[0] != b"content-length"]}
                return None
            return await send(message)
        if message["type"] != "http.response.body":
            return await send(message)
        if state["stream"]:
            return await send({**message, "body": scrub_events(message.get("body", b""))})
        if not state["error"]:
            return await send(message)
        state["held"].append(message.get("body", b""))
        if message.get("more_body"):
            return None
        body = hosting.public(b"".join(state["held"]).decode("utf-8", "replace")).encode()
        start = state["start"]
        await send({**start, "headers": [*start["headers"], (b"content-length", str(len(body)).encode())]})
        return await send({"type": "http.response.body", "body": body})

    return scrubbed


ERROR_KEYS = ("error", "title", "message", "detail", "log")


def scrub_events(chunk: bytes) -> bytes:
    """Server-sent events with their error texts scrubbed: JSON data's error fields, or an error event's data."""
    text = chunk.decode("utf-8", "replace")
    events = []
    for event in text.split("\n\n"):
        lines = event.split("\n")
        is_error = "event: error" in lines
        events.append("\n".join(scrub_line(line, is_error) for line in lines))
    return "\n\n".join(events).encode()


def scrub_line(line: str, is_error: bool) -> str:
    if not line.startswith("data:"):
        return line
    data = line[5:].strip()
    if is_error:
        return "data: " + hosting.public(data)
    try:
        payload = json.loads(data)
    except json.JSONDecodeError:
        return line
    return "data: " + json.dumps(scrub_errors(payload))


def scrub_errors(value):
    if isinstance(value, dict):
        return {
            key: hosting.public(item) if key in ERROR_KEYS and isinstance(item, str) else scrub_errors(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub_errors(item) for item in value]
    return value
