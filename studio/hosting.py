"""What a public server allows each visitor: queue, work and time per run, and how long files are kept."""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import gradio as gr
import numpy as np
from gradio.utils import get_upload_folder
from PIL import Image

from stylize.core import costs, images
from stylize.core.precision import resolve_precision
from stylize.core.recipe import recipe_text
from stylize.core.settings import Settings
from stylize.gatys.networks import FeatureNetwork

QUEUE_SIZE = 16  # jobs waiting beyond the running ones, all tabs together; more are turned away with a message
MAX_RUNS = 6  # optimizer runs queued or running, all visitors together: the rest of the queue stays for the fast tabs
MAX_STREAMS = 4  # webcam streams queued or streaming, all visitors together (two stream at once)
STREAM_SECONDS = 60  # a webcam stream ends after this (the page's camera button starts another)
# Behind a proxy (a Space) every request comes from the proxy: the visitor is the first X-Forwarded-For hop.
BEHIND_PROXY = bool(os.environ.get("SPACE_ID") or os.environ.get("STYLIZE_BEHIND_PROXY"))
MAX_UPLOAD = f"{images.MAX_FILE_BYTES // 2**20}mb"
# A public server's per-run budget; a private deployment raises them with these environment variables.
MAX_WORK = float(os.environ.get("STYLIZE_MAX_MEGAPIXEL_STEPS", 200))  # output megapixels x steps, summed over scales
MAX_SECONDS = float(os.environ.get("STYLIZE_MAX_SECONDS", 600))  # a run is stopped (its picture kept) after this
# Gradio's cache (uploads, comparisons, downloads) and our results: files older than CACHE_AGE s are deleted,
# Gradio's every CACHE_SWEEP s (a download link older than that stops working); a closed page's go at once.
CACHE_AGE = float(os.environ.get("STYLIZE_CACHE_SECONDS", 1200))
CACHE_SWEEP = min(300.0, CACHE_AGE)
RESULTS_DIR = Path(tempfile.mkdtemp(prefix="stylize-results-"))  # mode 0700, a fresh name: not shared /tmp's
STATE_SESSIONS = 500  # sessions whose state Gradio keeps in memory (its default, 10000, is a memory lever)
HISTORY_LENGTH = 12  # results kept in a session's history strip
RESULT_NAMES = ("stylized-*.png", "before-*.webp", "after-*.webp")  # our files' names, random tokens in each
folders: dict[str, Path] = {}  # each session's results folder, removed when the session ends


def configure_queue(demo: gr.Blocks) -> gr.Blocks:
    """The queue every deployment uses: bounded, and no REST route that skips it (api_open=False); results pruned."""
    keep_pruning()
    return demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1, api_open=False)


def launch_options() -> dict:
    """What every deployment passes to launch(): the upload limit, fewer kept sessions, bounded request bodies."""
    from starlette.middleware import Middleware

    from .bodies import BoundedBodies

    return dict(
        max_file_size=MAX_UPLOAD,
        state_session_capacity=STATE_SESSIONS,
        app_kwargs={"middleware": [Middleware(BoundedBodies)]},
    )


def client_address(request) -> str:
    """Who sent a request (a gr.Request or Starlette's), for per-visitor limits: not the session hash, which
    the client chooses; the first X-Forwarded-For hop only when BEHIND_PROXY says a proxy sets it."""
    if request is None:
        return "local"
    if BEHIND_PROXY:
        first = (request.headers.get("x-forwarded-for") or "").split(",")[0].strip()
        if first:
            return first
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


def events_by_client(request, concurrency_id: str) -> Counter:
    """Gradio's own record of the events of one concurrency group, queued or running, counted by client.

    Reached through the request's app, so claims can be checked against what the queue really holds: an API
    client's cancelled job, or a closed page's, leaves the queue without running its handler.
    """
    app = getattr(getattr(request, "request", request), "app", None)
    queue = getattr(getattr(app, "get_blocks", lambda: None)(), "_queue", None)
    if queue is None:
        return Counter()
    waiting = getattr(queue.event_queue_per_concurrency_id.get(concurrency_id), "queue", [])
    running = [event for job in queue.active_jobs if job for event in job]
    return Counter(
        client_address(event.request) for event in [*waiting, *running] if event.concurrency_id == concurrency_id
    )


def check_budget(settings: Settings, shape: tuple[int, int], style_shapes: list[tuple[int, int]] = ()) -> None:
    """Refuse a run that asks for more than this server allows: more time than MAX_SECONDS, or (exact steps) more
    work than MAX_WORK. A time budget bounds its own work: the plan ends the run within it."""
    if settings.seconds is not None:
        if settings.seconds > MAX_SECONDS:
            raise ValueError(
                f"this run asks for {settings.seconds:g} s but this server allows {MAX_SECONDS:g} s per "
                "run: choose less time"
            )
        return
    work = costs.run_work(settings, shape, style_shapes)
    if work > MAX_WORK:
        raise ValueError(
            f"this run is {work:.0f} megapixel-steps but this server allows {MAX_WORK:.0f} per run: "
            "choose fewer steps, a smaller output size or a smaller style scale"
        )


def limits_text() -> str:
    def steps_at(megapixels: float) -> int:  # with L-BFGS, the default
        return max(1, round(MAX_WORK / (megapixels * costs.LBFGS_EVALUATIONS + costs.STEP_FIXED_MEGAPIXELS) / 50) * 50)

    seconds = f"{MAX_SECONDS / 60:g} min" if MAX_SECONDS >= 60 else f"{MAX_SECONDS:g} s"
    return (
        f"**Limits on this server:** at most {seconds} per run; with exact steps, {MAX_WORK:g} megapixel-steps "
        f"(about {steps_at(0.197)} steps at 512 px or {steps_at(0.79)} at 1024 px); one run per visitor at a "
        f"time. Precision *auto* means {resolve_precision('auto')} here."
    )


SERVER_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.~$@+-]+){2,}[\\/]?")  # two or more segments: /tmp/x, C:\\a\\b


def public(error: BaseException | str) -> str:
    """An error's one line as the page may show it: server paths replaced (the server log keeps the original)."""
    text = str(error)
    shown = SERVER_PATH.sub("(a server file)", text)
    if shown != text:
        print(f"stylize: {text}", file=sys.stderr)
    return shown


def session_folder(key: str) -> Path:
    """The session's own results folder, under a random name, made on first use."""
    folder = folders.setdefault(key, RESULTS_DIR / secrets.token_hex(8))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_result(picture: np.ndarray, settings: Settings, network: FeatureNetwork, key: str = "default") -> str:
    """Write the finished picture as a lossless PNG that remembers its settings, in the session's own folder
    under a random name (two users finishing in the same second must not overwrite each other); returns the path."""
    path = session_folder(key) / f"stylized-{secrets.token_hex(8)}.png"
    images.save_png(path, picture, recipe_text(settings, {"network": network.label}))
    prune_results()
    return str(path)


def save_picture(picture: np.ndarray, key: str, stem: str) -> str:
    """A picture shown beside the result (the comparison's two sides), as a file of the session's own, under a
    random name: Gradio's copy keeps that name, so closing the page finds and deletes it too."""
    path = session_folder(key) / f"{stem}-{secrets.token_hex(8)}.webp"
    Image.fromarray(picture).save(path, "WEBP", quality=90)
    return str(path)


def add_to_history(path: str, history: list[str] | None) -> list[str]:
    """The history strip with path first; results that fall off its end are deleted."""
    history = [path] + [kept for kept in history or [] if Path(kept).exists()]  # older ones may have been pruned
    for dropped in history[HISTORY_LENGTH:]:
        Path(dropped).unlink(missing_ok=True)
    return history[:HISTORY_LENGTH]


def prune_results(now: float | None = None) -> None:
    """Delete results older than CACHE_AGE, and the folders they leave empty: API clients never close a page,
    so their sessions never end."""
    now = now or time.time()
    # Gradio's copies of them too: it sweeps only copies made by the page's own components, not those made for a
    # session's copy of a component (the download button made visible, the history, the comparison).
    copies = (copy for pattern in RESULT_NAMES for copy in Path(get_upload_folder()).glob(f"*/{pattern}"))
    for path in itertools.chain(RESULTS_DIR.glob("*/*"), copies):
        try:
            if now - path.stat().st_mtime > CACHE_AGE:
                path.unlink()
        except OSError:
            pass  # another thread pruned it first
    for key, folder in list(folders.items()):
        if folder.is_dir() and not any(folder.iterdir()):
            folders.pop(key, None)
            shutil.rmtree(folder, ignore_errors=True)


def keep_pruning() -> None:
    """prune_results every CACHE_SWEEP s in a daemon thread, started once per process (with the queue): without
    it, an API client's last results would wait for someone's next result to be pruned."""
    global _pruning
    if _pruning is None:

        def loop():
            while True:
                time.sleep(CACHE_SWEEP)
                prune_results()

        _pruning = threading.Thread(target=loop, daemon=True, name="prune-results")
        _pruning.start()


_pruning: threading.Thread | None = None


def remove_results(key: str) -> None:
    """A session's results folder and everything in it, and Gradio's copies of them (the page was closed)."""
    folder = folders.pop(key, None)
    if folder is None:
        return
    names = {path.name for path in folder.glob("*")}
    shutil.rmtree(folder, ignore_errors=True)
    # Gradio copies an output file to <cache>/<hash>/<its name>; ours are random, so a name is this session's.
    for copy in Path(get_upload_folder()).glob("*/*"):
        if copy.name in names:
            copy.unlink(missing_ok=True)
