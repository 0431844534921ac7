"""Instant mode: Magenta's arbitrary-style network (Ghiasi et al. 2017), TensorFlow's release or the bundled one."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from ..core import images
from ..core.cache import BoundedCache
from ..core.errors import NetworkUnavailable, one_line
from ..core.images import ImageSource
from ..core.settings import SIZE_RANGE, check_range
from .bundled import (
    STYLE_AMOUNT_RANGE,
    STYLE_SIZE_RANGE,
    TRANSFORM_SIZE,
    BundledNetworks,
    BundledUnavailable,
    load_bundled,
)
from .tiled import detail_sigma, paint_in_tiles

HUB_HANDLE = "https://tfhub.dev/google/magenta/arbitrary-image-stylization-v1-256/2"  # the published handle
KAGGLE_HANDLE = "google/arbitrary-image-stylization-v1/tensorFlow1/256/2"  # where tfhub.dev now redirects
MODEL_ENV = "STYLIZE_INSTANT_MODEL"  # a local SavedModel folder, for machines without network
BUNDLED = "bundled"  # as the folder (or $STYLIZE_INSTANT_MODEL): skip TensorFlow's network, use the bundled one

STYLE_SIZE = 256  # the network was trained with 256x256 style pictures
# A picture more than this is painted in tiles at TRANSFORM_SIZE under the whole's colours, not enlarged from it.
TILED_FROM = round(1.5 * TRANSFORM_SIZE)


class InstantUnavailable(NetworkUnavailable):
    """The instant network cannot be had; the message says how to get it."""


class InstantModel:
    """The loaded SavedModel, called as model(content batch, style batch) -> stylised batch of the content's size."""

    def __init__(self, saved_model, source: str):
        self.saved_model = saved_model
        self.source = source  # where it was loaded from, recorded in PNG metadata
        self.label = f"Magenta's TensorFlow network ({source})"
        # Traced once for any sizes: calling the restored function directly would retrace per new shape.
        spec = tf.TensorSpec([None, None, None, 3], tf.float32)
        self._call = tf.function(self._stylize, input_signature=[spec, spec])

    def _stylize(self, content: tf.Tensor, style: tf.Tensor) -> tf.Tensor:
        stylized = self.saved_model(content, style)[0]
        # The network works at a quarter of the resolution inside, so sides not divisible by 4 may come back
        # rounded; resizing to the content's own size is then exact for every other size.
        stylized = tf.image.resize(stylized, tf.shape(content)[1:3], method="bilinear")
        return tf.clip_by_value(stylized, 0.0, 1.0)

    def __call__(self, content: tf.Tensor, style: tf.Tensor) -> tf.Tensor:
        return self._call(tf.convert_to_tensor(content, tf.float32), tf.convert_to_tensor(style, tf.float32))

    def style_code(self, style: np.ndarray, style_size: int) -> tf.Tensor:
        """What apply() needs of a painting: here the squashed picture itself (the network embeds it inside)."""
        return tf.constant(prepare_style(style, style_size))

    def apply(self, content: np.ndarray | tf.Tensor, code: tf.Tensor, strength: float = 1.0) -> np.ndarray:
        """The content (float HxWx3) stylised, same size.

        The published signature takes only (content, style) and keeps the style embedding inside, so the
        embedding cannot be interpolated as Ghiasi et al. do: strength blends the pixels on this path only,
        strength * stylised + (1 - strength) * content, which keeps the content's own colours at low strength.
        """
        check_range("strength", strength, STYLE_AMOUNT_RANGE)
        stylized = self(content[None], code)[0]
        return (strength * stylized + (1.0 - strength) * content).numpy()


def _how_to_get_it() -> str:
    return (
        f"download {HUB_HANDLE} (Kaggle model {KAGGLE_HANDLE}) on a machine with internet, unpack it and "
        f"pass its folder with --instant-model DIR or set {MODEL_ENV}=DIR (or {BUNDLED!r} for the bundled one)"
    )


def _saved_model_from(folder: str, source: str) -> InstantModel:
    path = Path(folder)
    if not (path / "saved_model.pb").is_file():
        raise InstantUnavailable(f"instant model folder {folder!r} has no saved_model.pb: {_how_to_get_it()}")
    try:
        saved_model = tf.saved_model.load(str(path))
    except Exception as error:  # TensorFlow raises several kinds for a damaged or foreign SavedModel
        raise InstantUnavailable(
            f"instant model folder {folder!r} could not be loaded ({one_line(error)}): {_how_to_get_it()}"
        ) from None
    if not callable(saved_model):
        raise InstantUnavailable(
            f"instant model folder {folder!r} is not callable as (content, style): {_how_to_get_it()}"
        )
    return InstantModel(saved_model, source)


def download_hub_network() -> str:
    """The model's folder in kagglehub's disk cache ($KAGGLEHUB_CACHE), downloaded on first use only."""
    try:
        import kagglehub  # imported here: only this path needs it
    except ImportError:
        raise InstantUnavailable(
            f"the instant model needs the kagglehub package (pip install kagglehub) or a local copy: {_how_to_get_it()}"
        ) from None
    try:
        return kagglehub.model_download(KAGGLE_HANDLE)
    except Exception as error:  # requests' ConnectionError offline, HTTP errors, kagglehub's own
        reason = type(error).__name__
        raise InstantUnavailable(
            f"the instant model is not cached and could not be downloaded ({reason}; offline?): {_how_to_get_it()}"
        ) from error


def _downloaded_or_bundled() -> InstantModel | BundledNetworks:
    try:
        return _saved_model_from(download_hub_network(), HUB_HANDLE)
    except InstantUnavailable as missing:
        try:
            return load_bundled()
        except BundledUnavailable as also_missing:
            raise InstantUnavailable(f"{missing}; {also_missing}") from None


loaded_networks: BoundedCache[InstantModel | BundledNetworks] = BoundedCache()  # folder (None: the hub's) -> network


def load_instant(model_dir: str | os.PathLike | None = None) -> InstantModel | BundledNetworks:
    """The instant network, loaded once per process: from model_dir, else $STYLIZE_INSTANT_MODEL, else the hub
    (full precision and fully convolutional: sharper at large sizes), else the bundled int8 ONNX networks.

    A folder named explicitly is used or fails, never swapped for another network. Without one, a failed
    download is not retried in this process (a firewalled network can take a timeout per try). Raises
    InstantUnavailable, whose one-line message says how to get a network, when none can be had.
    """
    folder = str(model_dir) if model_dir else os.environ.get(MODEL_ENV) or None
    return loaded_networks.get_or_make(folder, lambda: _load(folder))


def _load(folder: str | None) -> InstantModel | BundledNetworks:
    if folder == BUNDLED:
        try:
            return load_bundled()
        except BundledUnavailable as error:
            raise InstantUnavailable(str(error)) from None
    if folder is not None:
        return _saved_model_from(folder, folder)
    return _downloaded_or_bundled()


def prepare_style(style: ImageSource, style_size: int = STYLE_SIZE) -> np.ndarray:
    """The style picture as the network wants it: float 1 x style_size x style_size x 3 (squashed, as Magenta did)."""
    check_range("style_size", style_size, STYLE_SIZE_RANGE, integer=True)
    picture = images.load_image(style, "style image")
    return images.resize(picture, (int(style_size), int(style_size)))[None]


def instant_stylize(
    content: ImageSource,
    style: ImageSource,
    *,
    strength: float = 1.0,
    style_size: int = STYLE_SIZE,
    size: int | None = None,
    model: InstantModel | BundledNetworks | None = None,
) -> np.ndarray:
    """Stylise content in one pass of the instant network: uint8 HxWx3, the content's size or longer side `size`.

    strength 0..1 moves the style embedding from the photo's own to the painting's with the bundled networks;
    with TensorFlow's network it blends the pixels (see InstantModel.apply).
    """
    check_range("strength", strength, STYLE_AMOUNT_RANGE)
    picture = images.load_image(content, "content image")
    if size is not None:
        check_range("size", size, SIZE_RANGE, integer=True)
        picture = images.resize_longer_side(picture, int(size))
    check_range("style_size", style_size, STYLE_SIZE_RANGE, integer=True)
    painting = images.load_image(style, "style image")
    model = model or load_instant()
    code = model.style_code(painting, style_size)
    if isinstance(model, BundledNetworks):  # the photo's own embedding once, not once a tile
        code, strength = model.blended_code(picture, code, strength), 1.0
    if max(picture.shape[:2]) <= TILED_FROM:
        return images.to_uint8(model.apply(picture, code, strength))
    # Larger: the network's picture of the whole at its own size, enlarged, under its tiles' detail (fast/tiled.py).
    whole = model.apply(images.resize_longer_side(picture, TRANSFORM_SIZE), code, strength)
    return images.to_uint8(
        paint_in_tiles(
            images.resize(whole, picture.shape[:2]),
            picture,
            lambda tile: model.apply(tile, code, strength),
            TRANSFORM_SIZE,
            detail_sigma(TRANSFORM_SIZE, max(picture.shape[:2])),
        )
    )
