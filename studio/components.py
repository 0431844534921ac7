"""Gradio components the studio needs: uploads checked before decoding, inline previews, and controls from the table."""

from __future__ import annotations

import base64
import inspect
import io

import gradio as gr
import numpy as np
from PIL import Image

from stylize import images

from .controls import Control

MAX_MASK_LAYERS = 8  # the mask editor's layers a request may carry; each is checked like an upload


class Upload(gr.Image):
    """An image upload handed over undecoded, so stylize.images checks size, mode and orientation with its messages."""

    is_template = True  # render as a plain gr.Image in the page

    def preprocess(self, payload):
        if payload is None:
            return None
        if payload.path is None and payload.url and payload.url.startswith("data:"):
            try:  # JSON data URLs skip Gradio's upload limit: refused by their length before decoding
                return images.decode_data_url(payload.url, self.label or "image")
            except ValueError as error:
                raise gr.Error(str(error)) from None
        return payload.path


def check_upload(file, what: str) -> None:
    """An upload's header checked (size, sides) before Gradio decodes it; a data URL by its length."""
    try:
        if isinstance(file, (bytes, bytearray)):
            images.open_image(bytes(file), what).close()
        elif getattr(file, "path", None):
            images.open_image(file.path, what).close()
        elif getattr(file, "url", None) and file.url.startswith("data:"):
            images.open_image(images.decode_data_url(file.url, what), what).close()
    except ValueError as error:
        raise gr.Error(str(error)) from None


class MaskEditor(gr.ImageEditor):
    """The mask editor with its layers counted and each one's header checked before Gradio decodes them."""

    is_template = True

    def preprocess(self, payload):
        parts = payload if payload is None or payload.id is None else self.blob_storage.get(payload.id)
        if parts is not None:
            if len(parts.layers or []) > MAX_MASK_LAYERS:
                raise gr.Error(f"the mask has {len(parts.layers)} layers but may have at most {MAX_MASK_LAYERS}")
            for index, layer in enumerate([parts.background, parts.composite, *(parts.layers or [])]):
                if layer is not None:
                    check_upload(layer, f"mask layer {index}")
        return super().preprocess(payload)


class Frame(gr.Image):
    """A webcam frame (from the page or the API) whose header is checked before Gradio decodes it."""

    is_template = True

    def preprocess(self, payload):
        if payload is not None:
            check_upload(payload, "webcam frame")
        return super().preprocess(payload)


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
    raise ValueError(f"control {control.name} has widget {control.widget!r}, which the page can't show")


def with_request(handler, names: tuple[str, ...]):
    """handler(*values, request) presented to Gradio as one named parameter per input, then a gr.Request.

    Gradio hands a gr.Request only to a parameter its signature names, and *values has no names: the signature
    is written out here from names (the API's parameter names), so the control table stays the only list.
    """
    parameters = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in names]
    parameters.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                        annotation=gr.Request))
    handler.__signature__ = inspect.Signature(parameters)
    handler.__annotations__ = {"request": gr.Request}
    return handler
