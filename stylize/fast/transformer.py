"""The image transformation network of Johnson et al. (2016): its layers, building it, and running a trained one."""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ..core import images
from ..core.cache import BoundedCache
from ..core.files import atomic_path
from ..core.images import ImageSource
from ..core.precision import cast_model, resolve_precision
from ..core.settings import PRECISIONS, SIZE_RANGE, check_choice, check_range

WIDTH_RANGE = (0.125, 2.0)  # multiplier on Johnson's 32/64/128 filters; below 1 trades quality for speed
RESIDUAL_BLOCKS_RANGE = (1, 10)
MULTIPLE = 4  # two stride-2 downsamplings: sides must divide by 4 for the output to come back the same size
_PACKAGE = "stylize"  # the prefix custom layers are registered under, stored in every .keras file


@keras.saving.register_keras_serializable(_PACKAGE)
class ReflectionPadding2D(keras.layers.Layer):
    """Pad height and width by mirroring the picture: zero padding would give every output a dark frame."""

    def __init__(self, padding: int, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, x):
        p = self.padding
        return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, shape):
        grow = lambda side: None if side is None else side + 2 * self.padding  # noqa: E731
        return (shape[0], grow(shape[1]), grow(shape[2]), shape[3])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(_PACKAGE)
class PadToMultiple(keras.layers.Layer):
    """Reflect-pad the bottom and right so both sides divide by `multiple` (undone by CropLike at the end)."""

    def __init__(self, multiple: int = MULTIPLE, **kwargs):
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, x):
        shape = tf.shape(x)
        extra_h = (-shape[1]) % self.multiple
        extra_w = (-shape[2]) % self.multiple
        return tf.pad(x, [[0, 0], [0, extra_h], [0, extra_w], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, shape):
        up = lambda side: None if side is None else -(-side // self.multiple) * self.multiple  # noqa: E731
        return (shape[0], up(shape[1]), up(shape[2]), shape[3])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(_PACKAGE)
class CropLike(keras.layers.Layer):
    """Crop the first input to the height and width of the second: the output has exactly the input's size."""

    def call(self, inputs):
        x, reference = inputs
        shape = tf.shape(reference)
        return x[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, shapes):
        x, reference = shapes
        return (x[0], reference[1], reference[2], x[3])


@keras.saving.register_keras_serializable(_PACKAGE)
class InstanceNormalization(keras.layers.Layer):
    """Normalise each picture's channels over its own pixels, then scale and shift (Ulyanov et al. 2016).

    Johnson et al. used batch normalisation; instance normalisation removes each picture's contrast before
    styling it, which Ulyanov et al. showed gives clearly better stylisations, and it behaves the same at
    training and inference time, so a network trained on batches runs identically on one webcam frame.
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.scale = self.add_weight(shape=(channels,), initializer="ones", name="scale")
        self.offset = self.add_weight(shape=(channels,), initializer="zeros", name="offset")

    def call(self, x):
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        return (x - mean) * tf.math.rsqrt(variance + self.epsilon) * self.scale + self.offset

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def _conv(x, filters: int, kernel: int, stride: int = 1, relu: bool = True):
    """Reflect pad, convolve (no bias: the normalisation's offset replaces it), normalise, ReLU."""
    x = ReflectionPadding2D(kernel // 2)(x)
    x = keras.layers.Conv2D(filters, kernel, strides=stride, use_bias=False)(x)
    x = InstanceNormalization()(x)
    return keras.layers.ReLU()(x) if relu else x


def _residual(x, filters: int):
    return keras.layers.Add()([x, _conv(_conv(x, filters, 3), filters, 3, relu=False)])


def _upsample(x, filters: int):
    """Resize then convolve instead of a transposed convolution, whose uneven overlaps draw a checkerboard
    (Odena et al. 2016, "Deconvolution and Checkerboard Artifacts")."""
    x = keras.layers.UpSampling2D(2, interpolation="nearest")(x)
    return _conv(x, filters, 3)


def build_transformer(width: float = 1.0, residual_blocks: int = 5) -> keras.Model:
    """A fresh transformation network: float RGB [0, 1] batch of any size in, the same size out, in [0, 1].

    width scales Johnson et al.'s 32/64/128 filters (0.5 is about 3.5x faster on a CPU); residual_blocks is 5
    in the paper. The output uses a sigmoid where the paper scales a tanh: both map onto the pixel range.
    """
    check_range("width", width, WIDTH_RANGE)
    check_range("residual_blocks", residual_blocks, RESIDUAL_BLOCKS_RANGE, integer=True)
    small, medium, large = (max(4, round(filters * width)) for filters in (32, 64, 128))
    picture = keras.Input((None, None, 3), name="picture")
    x = PadToMultiple(MULTIPLE)(picture)
    x = keras.layers.Rescaling(2.0, offset=-1.0)(x)  # centre the pixels on zero
    x = _conv(x, small, 9)
    x = _conv(x, medium, 3, stride=2)
    x = _conv(x, large, 3, stride=2)
    for _ in range(int(residual_blocks)):
        x = _residual(x, large)
    x = _upsample(x, medium)
    x = _upsample(x, small)
    x = ReflectionPadding2D(4)(x)
    x = keras.layers.Conv2D(3, 9, activation="sigmoid")(x)
    styled = CropLike()([x, picture])
    return keras.Model(picture, styled, name=f"transformer_w{width:g}_r{int(residual_blocks)}")


def save_transformer(model: keras.Model, path: str | os.PathLike) -> None:
    """Save as one .keras file, through a temporary file: a reader (or a crash) never sees half a model."""
    with atomic_path(path, suffix=".part.keras") as temporary:  # model.save insists on the .keras ending
        model.save(temporary)


def list_trained(models_dir: str | os.PathLike) -> dict[str, Path]:
    """The trained networks in a folder, by name (the file name without .keras), sorted; {} if there is none."""
    folder = Path(models_dir)
    if not folder.is_dir():
        return {}
    return {
        path.stem: path for path in sorted(folder.glob("*.keras")) if path.is_file() and not path.name.startswith(".")
    }


_loaded: BoundedCache[keras.Model] = BoundedCache()  # (path, modification time) -> network


def load_transformer(path: str | os.PathLike) -> keras.Model:
    """A trained network from its .keras file, loaded once per path and kept (reloaded if the file changes).

    ValueError names the file when it is missing or not a transformation network.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ValueError(f"trained network {str(path)!r} does not exist")
    key = (path, path.stat().st_mtime_ns)
    # The file was rewritten since: drop the old. Every key here is a (path, mtime) tuple, made just above.
    _loaded.discard_if(lambda kept: isinstance(kept, tuple) and kept[0] == path and kept != key)
    return _loaded.get_or_make(key, lambda: _read(path))


def _read(path: Path) -> keras.Model:
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises ValueError, OSError, zipfile.BadZipFile, ...
        raise ValueError(f"trained network {str(path)!r} could not be loaded ({error})") from None


_traced: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {precision: tf.function}
_traced_lock = threading.Lock()


def traced(model: keras.Model, precision: str = "float32"):
    """The model as a tf.function for any picture size, float32 in and out, traced once and reused.

    precision "bfloat16" runs a mixed-precision copy (float32 weights, bfloat16 arithmetic): about 2x faster
    on CPUs with AMX or AVX512-BF16 and on GPUs, slower on CPUs without them; pixels move by about 1/255.
    """
    check_choice("precision", precision, PRECISIONS)
    precision = resolve_precision(precision)  # "auto" is no Keras policy: bfloat16 or float32 for this machine
    with _traced_lock:
        per_precision = _traced.setdefault(model, {})
        if precision not in per_precision:
            runner = model if precision == "float32" else cast_model(model, f"mixed_{precision}")
            per_precision[precision] = tf.function(
                lambda batch: tf.cast(runner(batch, training=False), tf.float32),
                input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)],
            )
        return per_precision[precision]


def apply_transformer(
    model: keras.Model, image: ImageSource, size: int | None = None, precision: str = "float32"
) -> np.ndarray:
    """Stylise a picture with a trained network: uint8 HxWx3 of the input's size, or with longer side `size`."""
    picture = images.load_image(image, "content image")
    if size is not None:
        check_range("size", size, SIZE_RANGE, integer=True)
        picture = images.resize_longer_side(picture, int(size))
    return images.to_uint8(traced(model, precision)(tf.constant(picture[None])))
