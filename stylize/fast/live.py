"""Per-frame stylisation for a live webcam stream: a trained or built-in style, or the instant network, reused."""

from __future__ import annotations

from collections.abc import Callable, Hashable

import keras
import numpy as np
import tensorflow as tf

from ..core import images
from ..core.cache import BoundedCache, picture_key
from ..core.settings import SIZE_RANGE, check_range
from .bundled import STYLE_AMOUNT_RANGE, BuiltinStyle, BundledNetworks
from .instant import STYLE_SIZE, InstantModel
from .transformer import traced

# Each painting's style code (embedding: InstantModel's tensor, BundledNetworks' array), computed once per painting,
# not per frame: the one cache of them, the webcam tab's included.
_styles: BoundedCache[tf.Tensor | np.ndarray] = BoundedCache(8)


def stylize_frame(
    model: keras.Model | BuiltinStyle | InstantModel | BundledNetworks,
    frame: np.ndarray | None,
    *,
    style: np.ndarray | None = None,
    strength: float = 1.0,
    size: int | None = None,
    style_size: int = STYLE_SIZE,
    style_code=None,
    precision: str = "float32",
) -> np.ndarray | None:
    """One webcam frame (uint8 HxWx3, as Gradio streams it) stylised: uint8, or None for a None frame.

    model is a trained transformation network (load_transformer), a BuiltinStyle, or the instant network
    (load_instant, which also needs style). size scales the frame's longer side first, which sets the frame
    rate: the output has the scaled size. strength is the instant network's own (see instant_stylize); for
    the others it blends stylised and original pixels. precision applies to trained networks only. style_code
    (cached_style_code's) replaces style where the caller has it: hashing a painting per frame costs time.
    """
    if frame is None:  # Gradio sends None before the camera starts and after it stops
        return None
    check_range("strength", strength, STYLE_AMOUNT_RANGE)
    if frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[-1] == 3:
        picture = tf.image.convert_image_dtype(tf.constant(frame), tf.float32)  # the common case, no copies
    else:  # greyscale, RGBA, 16-bit or float frames: the general converter
        picture = tf.constant(images.array_to_float_rgb(frame, "webcam frame"))
    if size is not None:
        check_range("size", size, SIZE_RANGE, integer=True)
        height, width = frame.shape[:2]
        shape = images.scaled_shape(height, width, int(size))
        if shape != tuple(frame.shape[:2]):
            picture = tf.image.resize(picture, shape, method="bilinear", antialias=True)
    batch = picture[None]
    if isinstance(model, (InstantModel, BundledNetworks)):
        if style_code is not None:
            code = style_code
        elif style is not None:
            code = cached_style_code(model, np.asarray(style), style_size)
        else:
            raise ValueError("the instant network needs a style picture: pass style=")
        return images.to_uint8(model.apply(picture.numpy(), code, strength))
    if isinstance(model, BuiltinStyle):
        stylized = model(batch[0].numpy())[None]
    else:
        stylized = traced(model, precision)(batch)
    if strength != 1.0:
        stylized = strength * stylized + (1.0 - strength) * batch
    return images.to_uint8(stylized)


def cached_style_code(
    model: InstantModel | BundledNetworks,
    style: np.ndarray | Callable[[], np.ndarray],
    style_size: int = STYLE_SIZE,
    key: Hashable | None = None,
) -> tf.Tensor | np.ndarray:
    """The painting's style code for the instant network, made once and kept. key names the painting where the
    caller knows it (an upload's path), and style may then be a function that decodes it, called only when the code
    is made; without a key the painting's pixels are its name."""
    if key is None:
        style = np.asarray(style)
        key = picture_key(style)
    return _styles.get_or_make(
        (model.source, key, style_size),
        lambda: model.style_code(images.load_image(style() if callable(style) else style, "style image"), style_size),
    )
