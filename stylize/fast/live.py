"""Per-frame stylisation for a live webcam stream: a trained network or the instant one, traced once, reused."""

from __future__ import annotations

import hashlib
import threading

import keras
import numpy as np
import tensorflow as tf

from .. import images
from ..settings import SIZE_RANGE, _check_range
from .instant import STRENGTH_RANGE, STYLE_SIZE, InstantModel, prepare_style
from .transformer import traced

_styles: dict[tuple, tf.Tensor] = {}  # prepared style batches, so a stream does not re-decode its style per frame
_styles_lock = threading.Lock()
_STYLES_KEPT = 8


def stylize_frame(model: keras.Model | InstantModel, frame: np.ndarray | None, *, style: np.ndarray | None = None,
                  strength: float = 1.0, size: int | None = None, style_size: int = STYLE_SIZE,
                  precision: str = "float32") -> np.ndarray | None:
    """One webcam frame (uint8 HxWx3, as Gradio streams it) stylised: uint8, or None for a None frame.

    model is a trained transformation network (load_transformer) or the instant network (load_instant, which
    also needs style). size scales the frame's longer side first, which sets the frame rate: the output has
    the scaled size. strength blends stylised and original pixels. precision applies to trained networks only.
    """
    if frame is None:  # Gradio sends None before the camera starts and after it stops
        return None
    _check_range("strength", strength, STRENGTH_RANGE)
    if frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[-1] == 3:
        picture = tf.image.convert_image_dtype(tf.constant(frame), tf.float32)  # the common case, no copies
    else:  # greyscale, RGBA, 16-bit or float frames: the general converter
        picture = tf.constant(images.array_to_float_rgb(frame, "webcam frame"))
    if size is not None:
        _check_range("size", size, SIZE_RANGE, integer=True)
        shape = images.scaled_shape(*frame.shape[:2], int(size))
        if shape != tuple(frame.shape[:2]):
            picture = tf.image.resize(picture, shape, method="bilinear", antialias=True)
    batch = picture[None]
    if isinstance(model, InstantModel):
        if style is None:
            raise ValueError("the instant network needs a style picture: pass style=")
        stylized = model(batch, _prepared_style(style, style_size))
    else:
        stylized = traced(model, precision)(batch)
    if strength != 1.0:
        stylized = strength * stylized + (1.0 - strength) * batch
    return images.to_uint8(stylized)


def _prepared_style(style: np.ndarray, style_size: int) -> tf.Tensor:
    style = np.asarray(style)
    key = (style.shape, style.dtype.str, hashlib.sha1(style.tobytes()).hexdigest(), style_size)
    with _styles_lock:
        if key not in _styles:
            _styles[key] = tf.constant(prepare_style(style, style_size))
            while len(_styles) > _STYLES_KEPT:
                del _styles[next(iter(_styles))]
        return _styles[key]
