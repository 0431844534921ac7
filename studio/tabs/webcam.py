"""The Webcam tab: each camera frame through a built-in style, the instant network or a trained style, live."""

from __future__ import annotations

import hashlib

import gradio as gr
import numpy as np

from stylize import fast
from stylize.core.cache import BoundedCache
from stylize.core.limits import BUDGET
from stylize.fast.bundled import STYLE_AMOUNT_RANGE
from stylize.fast.instant import STYLE_SIZE

from .. import hosting, sessions
from ..calls import decoded, fast_call, upload_bytes
from ..components import Frame, Preview, Upload
from ..trained import trained_choices, trained_network
from ..wiring import PAGE_ONLY, WEBCAM_SLOT

WEBCAM_SIZE = 320  # webcam frames are stylized at this longer side: about 5-20 frames/s on 2 CPU cores
INSTANT = "Instant (the uploaded style painting)"
BUILTIN = "Built-in style (picked in the Built-in & trained styles tab)"
ABOUT = (
    "Live: each camera frame through a fast network, for demos: a built-in style (picked in the Built-in & "
    "trained styles tab; works out of the box), the uploaded painting, or a trained style. Without a camera the "
    "browser says so here and the other tabs work as usual."
)

_builtin_styles = BoundedCache(4)  # a built-in style or blend checked once, not on every webcam frame


def webcam_choices() -> list[str]:
    return [BUILTIN, INSTANT, *trained_choices()]


def webcam_style_code(model, style):
    """The uploaded painting's style code for the instant network, made once per upload (its path is its name, so
    it is neither decoded nor hashed per frame), its decoding reserved from the budget when it happens."""
    key = ("upload", style if isinstance(style, str) else hashlib.sha256(style).hexdigest())

    def decode():
        with BUDGET.reserve(upload_bytes(style), "this frame"):
            return decoded(style, "style image", 2 * STYLE_SIZE)

    return fast.live.cached_style_code(model, decode, STYLE_SIZE, key)


def webcam_frame(frame, choice, style, amount, spec="0"):
    """The Webcam tab: each streamed frame (undecoded, at most MAX_FRAME_PIXELS) through the chosen fast network,
    decoded straight to the size it is stylized at; no frame, no picture."""
    if frame is None or not choice:
        return None
    with fast_call(WEBCAM_SIZE, frame, what="this frame"):
        return styled_frame(decoded(frame, "webcam frame", WEBCAM_SIZE), choice, style, amount, spec)


def styled_frame(picture: np.ndarray, choice: str, style, amount: float, spec) -> np.ndarray:
    """A decoded frame through the network the webcam tab's choice names."""
    if choice == BUILTIN:
        builtin = _builtin_styles.get_or_make(str(spec).strip(), lambda: fast.BuiltinStyle(str(spec).strip()))
        return fast.stylize_frame(builtin, picture, strength=amount, size=WEBCAM_SIZE)
    if choice == INSTANT:
        if style is None:
            raise gr.Error("Upload a style painting above to use Instant on the webcam.")
        model = fast.load_instant()
        return fast.stylize_frame(
            model, picture, style_code=webcam_style_code(model, style), strength=amount, size=WEBCAM_SIZE
        )
    return fast.stylize_frame(trained_network(choice), picture, strength=amount, size=WEBCAM_SIZE)


def network_choice(refresh: gr.Button) -> tuple[gr.Dropdown, gr.Slider]:
    """The network a live tab (webcam, video) runs and its style amount; Refresh lists newly trained styles."""
    choice = gr.Dropdown(webcam_choices(), value=BUILTIN, label="Network", allow_custom_value=True)
    amount = gr.Slider(
        *STYLE_AMOUNT_RANGE,
        value=1.0,
        step=0.05,
        label="Style amount",
        info="Instant with the bundled network mixes style embeddings; the others blend pixels",
    )
    refresh.click(lambda: gr.update(choices=webcam_choices()), None, choice, **PAGE_ONLY)
    return choice, amount


def webcam_tab(style: Upload, builtin_spec: gr.Textbox, refresh: gr.Button) -> None:
    """The Webcam tab: camera frames through a built-in style (the one chosen in its tab), Instant or a trained one."""
    with gr.Tab("Webcam"):
        gr.Markdown(ABOUT)
        with gr.Row():
            choice, amount = network_choice(refresh)
        with gr.Row():
            webcam = Frame(sources=["webcam"], streaming=True, label="Camera", height=320)
            output = Preview(label="Stylized", interactive=False, height=320, streaming=True)
        webcam.stream(
            webcam_frame,
            [webcam, choice, style, amount, builtin_spec],
            output,
            stream_every=0.1,
            time_limit=hosting.STREAM_SECONDS,
            api_name="webcam",
            validator=sessions.make_stream_claim(webcam_frame),
            **WEBCAM_SLOT,
        )
