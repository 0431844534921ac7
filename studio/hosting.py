"""What a public server allows each visitor: queue, work and time per run, and how long files are kept."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections import Counter
from collections.abc import Mapping
from fnmatch import fnmatch
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
from stylize.video import VideoLimits

QUEUE_SIZE = 16  # jobs waiting beyond the running ones, all tabs together; more are turned away with a message
MAX_RUNS = 6  # optimizer runs queued or running, all visitors together: the rest of the queue stays for the fast tabs
MAX_STREAMS = 4  # webcam streams queued or streaming, all visitors together (two stream at once)
STREAM_SECONDS = 60  # a webcam stream ends after this (the page's camera button starts another)


def video_limits(environ: Mapping[str, str] = os.environ) -> VideoLimits:
    """A public server's bounds on a clip (the Video tab); a private deployment raises them with these variables."""
    return VideoLimits(
        max_seconds=float(environ.get("STYLIZE_VIDEO_SECONDS", 30)),
        max_side=int(environ.get("STYLIZE_VIDEO_SIDE", 1920)),  # 1080p's longer side
        max_fps=float(environ.get("STYLIZE_VIDEO_FPS", 60)),
        # 30 s of a phone's 1080p at 60 fps is about 75 MB; two such clips fit a visitor's upload share (gate.Shares)
        max_bytes=int(float(environ.get("STYLIZE_VIDEO_MB", 100)) * 2**20),
    )


VIDEO_LIMITS = video_limits()
# Gradio's limit on any one uploaded file: a clip's; a picture is refused above images.MAX_FILE_BYTES when read.
MAX_UPLOAD = f"{max(images.MAX_FILE_BYTES, VIDEO_LIMITS.max_bytes) // 2**20}mb"
# A public server's per-run budget; a private deployment raises them with these environment variables.
MAX_WORK = float(os.environ.get("STYLIZE_MAX_MEGAPIXEL_STEPS", 200))  # output megapixels x steps, summed over scales
MAX_SECONDS = float(os.environ.get("STYLIZE_MAX_SECONDS", 600))  # a run is stopped (its picture kept) after this
MAX_SIDE = int(os.environ.get("STYLIZE_MAX_SIDE", 4096))  # the largest output side this server paints, any tab
# Gradio's upload folder (uploads, its cache's copies, deep-link states) and our results: files older than CACHE_AGE
# s are deleted by a sweep every CACHE_SWEEP s (a download link older than that stops working); a closed page's go
# at once.
CACHE_AGE = float(os.environ.get("STYLIZE_CACHE_SECONDS", 1200))
CACHE_SWEEP = min(300.0, CACHE_AGE)
FOLDER_GRACE = 10.0  # an empty folder younger than this (s) may be one Gradio has just made for a file: kept
RESULTS_DIR = Path(tempfile.mkdtemp(prefix="stylize-results-"))  # mode 0700, a fresh name: not shared /tmp's
STATE_SESSIONS = 500  # sessions whose state Gradio keeps in memory (its default, 10000, is a memory lever)
HISTORY_LENGTH = 12  # results kept in a session's history strip
RESULT_NAMES = (
    "stylized-*.png",
    "before-*.webp",
    "after-*.webp",
    "video-*.mp4",
)  # our files' names, random tokens in each
folders: dict[str, Path] = {}  # each session's results folder, removed when the session ends


def configure_queue(demo: gr.Blocks) -> gr.Blocks:
    """The queue every deployment uses: bounded, and no REST route that skips it (api_open=False); files pruned."""
    keep_pruning(demo)
    return demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1, api_open=False)


def launch_options(shares=None) -> dict:
    """What every deployment passes to launch(): the upload limit, fewer kept sessions, bounded request bodies and
    the gate in front of Gradio's routes (shares: what one visitor may start, gate.Shares' defaults unless given)."""
    from starlette.middleware import Middleware

    from .bodies import BoundedBodies
    from .gate import Gate

    return dict(
        max_file_size=MAX_UPLOAD,
        state_session_capacity=STATE_SESSIONS,
        # Bodies are bounded first, then the gate reads and checks them (studio/gate.py).
        app_kwargs={"middleware": [Middleware(BoundedBodies), Middleware(Gate, shares=shares)]},
    )


def proxy_hops(environ: Mapping[str, str] = os.environ) -> int:
    """How many proxies in front of the app append the address they were reached from to X-Forwarded-For:
    STYLIZE_PROXY_HOPS; else 1 with STYLIZE_BEHIND_PROXY (deprecated: it means STYLIZE_PROXY_HOPS=1) or on a
    Hugging Face Space (SPACE_ID set); else 0, the socket's peer being the visitor."""
    configured = environ.get("STYLIZE_PROXY_HOPS", "").strip()
    if configured:
        if not re.fullmatch(r"[0-9]{1,3}", configured):
            raise ValueError(
                f"STYLIZE_PROXY_HOPS is {configured!r} but must be a whole number from 0 to 999: the number of "
                "proxies in front of the app that append to X-Forwarded-For"
            )
        return int(configured)
    if environ.get("STYLIZE_BEHIND_PROXY", "") not in ("", "0"):
        return 1
    # A Space's requests reach the app through the one proxy in front of it, which appends the address it was
    # reached from; a host who finds more (or fewer) hops there sets STYLIZE_PROXY_HOPS instead.
    return 1 if environ.get("SPACE_ID") else 0


PROXY_HOPS = proxy_hops()


def client_address(request) -> str:
    """Who sent a request (a gr.Request or a Starlette HTTPConnection), for per-visitor limits: not the session
    hash, which the client chooses, but an address, as a proxy-aware server (uvicorn's ProxyHeadersMiddleware,
    Werkzeug's ProxyFix(x_for=N)) reads it.

    With PROXY_HOPS = 0 it is the socket's peer and X-Forwarded-For is ignored. With N hops each proxy appends the
    address it was reached from, so the N-th entry from the right of X-Forwarded-For (its lines joined in order)
    was written by the outermost trusted proxy: the visitor. Entries to its left came with the request and may be
    forged. With N = 1, "forged, 1.2.3.4" from peer 10.0.0.1 is 1.2.3.4; with N = 2, "forged, 1.2.3.4, 10.0.0.2"
    is 1.2.3.4. Fewer than N entries, or a malformed N-th one, means a proxy did not append as configured: the
    peer is used, so a stranger can't choose an address by sending a header the proxies don't extend.
    """
    if request is None:
        return "local"
    client = getattr(request, "client", None)
    peer = getattr(client, "host", None) or "unknown"
    if PROXY_HOPS == 0:
        return peer
    hops = forwarded_for(getattr(request, "headers", None))
    if len(hops) < PROXY_HOPS:
        return peer
    return entry_address(hops[-PROXY_HOPS]) or peer


def forwarded_for(headers) -> list[str]:
    """X-Forwarded-For's entries, from every line of it in order (a proxy may add a line rather than extend one)."""
    if headers is None:
        return []
    lines = headers.getlist("x-forwarded-for") if hasattr(headers, "getlist") else [headers.get("x-forwarded-for")]
    return [entry.strip() for line in lines if line is not None for entry in line.split(",")]


def entry_address(entry: str) -> str | None:
    """An X-Forwarded-For entry as a plain IP address (a port or IPv6 brackets dropped), None if it is not one."""
    host = entry
    if host.startswith("["):  # [2001:db8::1]:8080
        host = host[1 : host.find("]")] if "]" in host else ""
    elif host.count(":") == 1:  # 1.2.3.4:8080
        host = host.split(":")[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


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


def check_side(size) -> None:
    """Refuse an output larger than this server paints (MAX_SIDE), before anything is decoded."""
    if isinstance(size, (int, float)) and size > MAX_SIDE:
        raise ValueError(f"size is {size:g} px but this server paints at most {MAX_SIDE} px: choose a smaller size")


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
    prune_results(time.time())  # ours only: the walk of Gradio's whole folder is the sweeper's, not a run's end
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


def prune_files(now: float | None = None) -> None:
    """The one sweep of what this server keeps on disk: results older than CACHE_AGE and the session folders they
    leave empty (API clients never close a page, so their sessions never end), then Gradio's upload folder."""
    now = now or time.time()
    prune_results(now)
    prune_upload_folder(Path(os.path.abspath(get_upload_folder())), now)


def prune_results(now: float) -> None:
    """Our results older than CACHE_AGE, and the session folders they leave empty."""
    for path in files_under(RESULTS_DIR):
        if age(path, now) > CACHE_AGE:
            path.unlink(missing_ok=True)
    for key, folder in list(folders.items()):
        if folder.is_dir() and not any(folder.iterdir()):
            folders.pop(key, None)
            shutil.rmtree(folder, ignore_errors=True)


def prune_upload_folder(root: Path, now: float) -> None:
    """Every file under Gradio's upload folder past its age but those the apps' components keep (kept_files), then
    the folders left empty: uploads, its cache's copies (of our results too: it sweeps only copies made by the page's
    own components), and the deep-link states GET /gradio_api/deep_link writes, which nothing else sweeps.

    Gradio's own sweep (delete_cache) deletes the files it tracks after CACHE_AGE and forgets them then; deleting one
    first would leave its record of it behind for good, so files wait one sweep more here, except our results' copies,
    which it does not track.
    """
    kept = kept_files()
    for folder, _, names in os.walk(root, topdown=False):
        for name in names:
            path = Path(folder) / name
            limit = CACHE_AGE if any(fnmatch(name, pattern) for pattern in RESULT_NAMES) else CACHE_AGE + CACHE_SWEEP
            if str(path) not in kept and age(path, now) > limit:
                path.unlink(missing_ok=True)
        if Path(folder) != root and age(Path(folder), now) > FOLDER_GRACE:
            with contextlib.suppress(OSError):  # not empty
                os.rmdir(folder)


def age(path: Path, now: float) -> float:
    """Seconds since path was made or last changed (its ctime, as Gradio ages its files: a copy keeps its source's
    mtime, and a copy handed out again is touched); 0 if it is gone."""
    try:
        return now - path.lstat().st_ctime
    except OSError:
        return 0.0


def kept_files() -> set[str]:
    """The files the apps' components keep in Gradio's cache for their whole life: their values when the page was
    built (the built-in styles' thumbnails) and the examples."""
    return {
        os.path.abspath(path)
        for app in list(_apps)
        for block in list(app.blocks.values())
        for path in list(getattr(block, "keep_in_cache", ()))
    }


def keep_pruning(demo: gr.Blocks) -> None:
    """prune_files every CACHE_SWEEP s in a daemon thread, started once per process (with the queue), keeping what
    demo keeps: without it, an API client's last results would wait for someone's next result to be pruned, and
    Gradio's deep-link states forever."""
    global _pruning
    _apps.add(demo)
    if _pruning is None:

        def loop():
            while True:
                time.sleep(CACHE_SWEEP)
                try:
                    prune_files()
                except Exception as error:  # a failed sweep must not end the sweeping
                    print(f"stylize: pruning files failed: {error!r}", file=sys.stderr)

        _pruning = threading.Thread(target=loop, daemon=True, name="prune-files")
        _pruning.start()


_pruning: threading.Thread | None = None
_apps: weakref.WeakSet[gr.Blocks] = weakref.WeakSet()  # the apps whose kept files the sweep leaves


def remove_results(key: str) -> None:
    """A session's results folder and everything in it, and Gradio's copies of them (the page was closed)."""
    folder = folders.pop(key, None)
    if folder is None:
        return
    names = {path.name for path in files_under(folder)}
    shutil.rmtree(folder, ignore_errors=True)
    # Gradio copies an output file to <cache>/<hash>/<its name>; ours are random, so a name is this session's.
    for copy in files_under(Path(get_upload_folder())):
        if copy.name in names:
            copy.unlink(missing_ok=True)


def files_under(root: Path) -> list[Path]:
    """Every file under root. os.walk, not Path.glob: the sweep thread and a closing page's handler delete folders
    at the same time, and glob raises FileNotFoundError on a folder that goes while it looks; walk skips it."""
    return [Path(folder) / name for folder, _, names in os.walk(root) for name in names]
