"""Gradio components the studio needs: uploads confined and checked, never decoded before a slot; inline previews."""

from __future__ import annotations

import base64
import io

import gradio as gr
import numpy as np
from PIL import Image

from stylize.core import images

from . import uploads
from .calls import page_errors
from .controls import Control

MAX_MASK_LAYERS = 8  # the mask editor's layers a request may carry; each is checked like an upload
MAX_FRAME_PIXELS = 2_000_000  # a webcam frame is stylized at WEBCAM_SIZE: a phone camera's 1080p fits


def incoming(payload, what: str) -> str | bytes | None:
    """An upload as a confined path, or a data URL's bytes refused by its length first: nothing is decoded here.

    A data URL wins over a path, as in Gradio's own preprocess: checking the path and then decoding the URL
    would let a small file vouch for a huge URL.
    """
    if payload is None:
        return None
    url = getattr(payload, "url", None) or ""
    if url.startswith("data:"):  # JSON data URLs skip Gradio's upload limit
        return images.decode_data_url(url, what)
    if not getattr(payload, "path", None):
        raise ValueError(uploads.refusal(what))
    return uploads.confined(payload.path, what)


def checked(make, *arguments):
    """make(*arguments) with its errors as the one line the page shows."""
    with page_errors("this upload"):
        return make(*arguments)


class Upload(gr.Image):
    """An image upload handed over undecoded and confined, so stylize.core.images checks it with its messages."""

    is_template = True  # render as a plain gr.Image in the page

    def preprocess(self, payload):
        return checked(incoming, payload, self.label or "image")


def picture_upload(label: str, height: int, elem_id: str | None = None) -> Upload:
    """A picture the page takes from a file or the clipboard, handed to its handlers as a confined path."""
    return Upload(
        label=label, type="filepath", image_mode=None, height=height, sources=["upload", "clipboard"], elem_id=elem_id
    )


class ClipUpload(gr.Video):
    """A clip, handed over as a confined path and never transcoded: gr.Video's own preprocess runs ffmpeg on an
    upload whose format or sound differs from its settings, at join time, before any check. The video engine
    probes it (stylize.video.probe) inside the run's slot, and reads it streamed."""

    is_template = True

    def preprocess(self, payload):
        return None if payload is None else checked(uploads.confined, payload.path or "", "clip")


class ResultFile(gr.File):
    """A result PNG to restore, handed over as a confined path (restore reads its header before anything else)."""

    is_template = True

    def preprocess(self, payload):
        return None if payload is None else checked(uploads.confined, payload.path or "", "result file")


class MaskEditor(gr.ImageEditor):
    """The mask editor's painted layers, counted, confined and header-checked, handed over undecoded.

    Gradio's own preprocess decodes the background, the composite and every layer at full size, and for the
    Stylize button that happens at join time, before the run holds a slot; the handler decodes the layers, one
    at a time, inside its slot (masks.decoded_mask). Only the layers make the mask: the background and composite
    are not read at all.
    """

    is_template = True
    accept_blobs = None  # not a server function: /component_server refuses it (the page uploads files instead)

    def preprocess(self, payload):
        if payload is None:
            return None
        if payload.id is not None:
            raise gr.Error("the mask was sent as blobs, which this server does not take: paint it again")
        layers = payload.layers or []
        if len(layers) > MAX_MASK_LAYERS:
            raise gr.Error(f"the mask has {len(layers)} layers but may have at most {MAX_MASK_LAYERS}")
        sources, pixels = [], 0
        for index, layer in enumerate(layers):
            source = checked(incoming, layer, f"mask layer {index}")
            if source is not None:  # the header only, read without Pillow
                pixels += checked(images.read_header, source, f"mask layer {index}").pixels
            sources.append(source)
        if pixels > images.MAX_PIXELS:  # each is decoded in the run's slot, but not 8 of 50 MP
            raise gr.Error(
                f"the mask's layers are {pixels / 1e6:.0f} megapixels together but may be at most "
                f"{images.MAX_PIXELS / 1e6:.0f}: paint on a smaller photo"
            )
        return {"background": None, "composite": None, "layers": sources}


class Frame(gr.Image):
    """A webcam frame (from the page or the API): confined, at most MAX_FRAME_PIXELS by its header, undecoded."""

    is_template = True

    def preprocess(self, payload):
        source = checked(incoming, payload, "webcam frame")
        if source is not None:  # the header only, read without Pillow: decoded in the handler, at the size it is used
            checked(images.read_header, source, "webcam frame", MAX_FRAME_PIXELS)
        return source


class Preview(gr.Image):
    """An output picture sent inline as a JPEG data URL: streamed previews don't become files in Gradio's cache."""

    is_template = True

    def postprocess(self, value):
        if not isinstance(value, np.ndarray):
            return super().postprocess(value)
        buffer = io.BytesIO()
        Image.fromarray(images.to_uint8(value) if value.dtype != np.uint8 else value).save(buffer, "JPEG", quality=92)
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        return gr.components.image.ImageData(url=f"data:image/jpeg;base64,{encoded}", orig_name="preview.jpg")


def control_component(control: Control, value) -> gr.components.Component:
    """The Gradio component a row of the control table describes, showing value."""
    shown = dict(label=control.label, value=value, info=control.info or None, elem_id=control.elem_id)
    if control.widget == "slider":
        return gr.Slider(*control.bounds, step=control.step, **shown)
    if control.widget == "radio":
        return gr.Radio(list(control.choices), **shown)
    if control.widget == "dropdown":
        return gr.Dropdown(list(control.choices), **shown)
    if control.widget == "number":
        return gr.Number(precision=0, minimum=control.bounds[0], maximum=control.bounds[1], **shown)
    if control.widget == "checkbox":
        return gr.Checkbox(**shown)
    if control.widget == "textbox":
        return gr.Textbox(max_lines=1, max_length=int(control.bounds[1]), **shown)
    raise ValueError(f"control {control.name} has widget {control.widget!r}, which the page can't show")
