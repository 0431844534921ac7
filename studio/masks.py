"""Painting where the style goes: the mask editor's layers (Gradio's ImageEditor payload) as the engine's soft mask."""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image
from scipy import ndimage

from stylize.core.images import open_image, resize, scaled_shape

FEATHER_RANGE = (0.0, 0.25)  # blur radius as a fraction of the longer side; a quarter already blurs a stroke away
# Blurring at full size costs seconds at 4096 px, but a blurred mask is smooth, so we blur on a coarser grid where
# the radius is this many pixels and upsample bilinearly: measured against a full-size blur, that differs by under
# 0.001 at the default feather and under 0.01 at the largest (mostly at the border), about one uint8 level.
BLUR_PIXELS = 12.0


def mask_from_editor(editor_value: dict | None, shape: tuple[int, int], feather: float = 0.02) -> np.ndarray | None:
    """Float32 (height, width) mask in [0, 1]: 1 where any layer was painted, feathered; None if nothing was painted.

    editor_value is what gr.ImageEditor passes to a function: {"background": image, "layers": [image, ...],
    "composite": image}, each image a numpy array, PIL image or file path (its type=...). Only the layers count:
    the background is the photo and the composite is photo plus paint. feather is the Gaussian's standard
    deviation as a fraction of the longer side of shape.
    """
    height, width = _check_shape(shape)
    if not FEATHER_RANGE[0] <= feather <= FEATHER_RANGE[1]:  # also refuses NaN
        raise ValueError(f"feather is {feather!r} but must be from {FEATHER_RANGE[0]:g} to {FEATHER_RANGE[1]:g}")
    layers = (editor_value or {}).get("layers") or []
    painted = [alpha > 0 for alpha in (_alpha(layer, index) for index, layer in enumerate(layers) if layer is not None)]
    painted = [layer for layer in painted if layer.any()]
    if not painted:
        return None
    sigma = feather * max(height, width)
    work = (
        (height, width)
        if sigma <= BLUR_PIXELS
        else scaled_shape(height, width, math.ceil(max(height, width) * BLUR_PIXELS / sigma))
    )
    mask = np.max([resize(layer[..., None].astype(np.float32), work)[..., 0] for layer in painted], axis=0)
    if sigma > 0:
        mask = ndimage.gaussian_filter(mask, sigma * work[0] / height, mode="nearest")
    if work != (height, width):
        mask = resize(mask[..., None], (height, width))[..., 0]
    return np.clip(mask, 0.0, 1.0).astype(np.float32)


def decoded_mask(value: dict | None, shape: tuple[int, int]) -> np.ndarray | None:
    """The mask editor's layers (undecoded, from components.MaskEditor) decoded inside the run's slot, one at a time
    and each straight to the photo's size, then made into the mask."""
    layers = []
    for index, source in enumerate((value or {}).get("layers") or []):
        if source is None:
            continue
        with open_image(source, f"mask layer {index}") as opened:
            if "A" not in opened.getbands() and "transparency" not in opened.info:
                # Without alpha, black paint and untouched canvas look the same: guessing would lose strokes.
                raise ValueError(f"mask layer {index} has no transparency but must be RGBA: paint it again")
            layers.append(np.asarray(opened.convert("RGBA").resize((shape[1], shape[0]))))
    return mask_from_editor({"layers": layers}, shape)


def _alpha(layer, index: int) -> np.ndarray:
    """A layer's alpha channel as a 2-D array; the canvas leaves unpainted pixels fully transparent."""
    if isinstance(layer, (str, os.PathLike)):  # gr.ImageEditor(type="filepath")
        with Image.open(layer) as opened:
            layer = opened.copy()
    if isinstance(layer, Image.Image):
        layer = np.asarray(layer) if layer.mode in ("RGBA", "LA") else np.asarray(layer.convert("RGB"))
    layer = np.asarray(layer)
    if layer.ndim == 3 and layer.shape[-1] in (2, 4):
        return layer[..., -1]
    # Without alpha, black paint and untouched canvas look the same, so guessing would silently lose strokes.
    raise ValueError(
        f"layer {index} has shape {layer.shape} but must be RGBA (HxWx4): create the gr.ImageEditor "
        "with image_mode='RGBA' (the default) so painted pixels can be told from blank ones"
    )


def _check_shape(shape) -> tuple[int, int]:
    if not (
        isinstance(shape, (tuple, list))
        and len(shape) == 2
        and all(isinstance(side, (int, np.integer)) and side >= 1 for side in shape)
    ):
        raise ValueError(f"shape is {shape!r} but must be (height, width) in whole pixels, each at least 1")
    return int(shape[0]), int(shape[1])
