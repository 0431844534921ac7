"""What a public server allows each visitor: queue, work and time per run, and how long files are kept."""

from __future__ import annotations

import math
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr
import numpy as np

from stylize import images
from stylize.networks import FeatureNetwork, resolve_precision
from stylize.recipe import recipe_text
from stylize.settings import Settings

QUEUE_SIZE = 8  # jobs waiting beyond the running one; more are turned away with a message
MAX_UPLOAD = f"{images.MAX_FILE_BYTES // 2**20}mb"
# A public server's per-run budget; a private deployment raises them with these environment variables.
MAX_WORK = float(os.environ.get("STYLIZE_MAX_MEGAPIXEL_STEPS", 200))  # output megapixels x steps, summed over scales
MAX_SECONDS = float(os.environ.get("STYLIZE_MAX_SECONDS", 600))  # a run is stopped (its picture kept) after this
# Gradio's cache (uploads, comparisons, downloads) and our results: files older than CACHE_AGE s are deleted,
# Gradio's every CACHE_SWEEP s (a download link older than that stops working).
CACHE_AGE = float(os.environ.get("STYLIZE_CACHE_SECONDS", 3600))
CACHE_SWEEP = min(600.0, CACHE_AGE)
RESULTS_DIR = Path(tempfile.gettempdir()) / "stylize-results"
HISTORY_LENGTH = 12  # results kept in a session's history strip
folders: dict[str, Path] = {}  # each session's results folder, removed when the session ends


def configure_queue(demo: gr.Blocks) -> gr.Blocks:
    """The queue every deployment uses: bounded, and no REST route that skips it (api_open=False)."""
    return demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1, api_open=False)


def run_work(settings: Settings, shape: tuple[int, int]) -> float:
    """A run's work in output megapixels x steps, summed over its scales (what the time roughly follows)."""
    return sum(math.prod(images.scaled_shape(*shape, side)) * steps for side, steps in settings.schedule()) / 1e6


def check_budget(settings: Settings, shape: tuple[int, int]) -> None:
    work = run_work(settings, shape)
    if work > MAX_WORK:
        raise ValueError(f"this run is {work:.0f} megapixel-steps but this server allows {MAX_WORK:.0f} per run: "
                         "choose fewer steps or a smaller output size")


def limits_text() -> str:
    def steps_at(megapixels: float) -> int:
        return max(1, round(MAX_WORK / megapixels / 50) * 50)

    seconds = f"{MAX_SECONDS / 60:g} min" if MAX_SECONDS >= 60 else f"{MAX_SECONDS:g} s"
    return (f"**Limits on this server:** {MAX_WORK:g} megapixel-steps per run (about {steps_at(0.197)} steps at "
            f"512 px or {steps_at(0.79)} at 1024 px), at most {seconds} per run, one run per visitor at a time. "
            f"Precision *auto* means {resolve_precision('auto')} here.")


def public_note(network: FeatureNetwork) -> str:
    """Where the network's weights came from, without the server's paths: visitors can't act on them (the server
    log has the full note)."""
    if network.name == "vgg16-hed" and "instead" in network.note:  # the fallback: its note names the cache path
        return "ImageNet VGG19 weights are not available on this server, so the offline VGG16 network is used."
    return network.source  # where the weights came from; never a path (networks.py keeps paths in note alone)


def save_result(picture: np.ndarray, settings: Settings, network: FeatureNetwork, key: str = "default") -> str:
    """Write the finished picture as a lossless PNG that remembers its settings, in the session's own folder
    under a random name (two users finishing in the same second must not overwrite each other); returns the path."""
    folder = folders.setdefault(key, RESULTS_DIR / secrets.token_hex(8))
    path = folder / f"stylized-{secrets.token_hex(8)}.png"
    images.save_png(path, picture, recipe_text(settings, {"network": network.label}))
    prune_results()
    return str(path)


def add_to_history(path: str, history: list[str] | None) -> list[str]:
    """The history strip with path first; results that fall off its end are deleted."""
    history = [path] + (history or [])
    for dropped in history[HISTORY_LENGTH:]:
        Path(dropped).unlink(missing_ok=True)
    return history[:HISTORY_LENGTH]


def prune_results(now: float | None = None) -> None:
    """Delete results older than CACHE_AGE: API clients never close a page, so their sessions never end."""
    now = now or time.time()
    for path in RESULTS_DIR.glob("*/*.png"):
        try:
            if now - path.stat().st_mtime > CACHE_AGE:
                path.unlink()
        except OSError:
            pass  # another thread pruned it first


def remove_results(key: str) -> None:
    """A session's results folder and everything in it (the page was closed)."""
    folder = folders.pop(key, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
