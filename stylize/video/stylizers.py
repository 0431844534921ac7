"""Per-frame stylizers for a clip, made per shot: the instant network with a painting, a built-in style, a trained
network. Each factory loads its network and embeds the painting once, before the clip starts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from ..core import images
from ..core.images import ImageSource
from ..core.settings import check_range
from ..fast.bundled import STYLE_AMOUNT_RANGE, STYLE_SIZE_RANGE, BuiltinStyle, BundledNetworks, Fuse
from ..fast.instant import STYLE_SIZE, InstantModel, load_instant
from ..fast.transformer import traced

FrameStylizer = Callable[[np.ndarray], np.ndarray]  # float32 HxWx3 in [0, 1] -> the same shape, stylised
# Called with a shot's first frame, returns that shot's FrameStylizer: one style code and one set of colour
# statistics per shot, so the style itself can't flicker from frame to frame.
StylizerFactory = Callable[[np.ndarray], FrameStylizer]


@dataclass(frozen=True)
class TrunkStylizer:
    """A FrameStylizer whose network the video fuses inside, between stages (fusion.Fuser.stylize): called with a
    frame alone, it stylises it; with fuse as well, fuse(depth, features) replaces the features between stages."""

    run: Callable[[np.ndarray, Fuse | None], np.ndarray]

    def __call__(self, frame: np.ndarray, fuse: Fuse | None = None) -> np.ndarray:
        return self.run(frame, fuse)


def instant_frames(
    painting: ImageSource,
    strength: float = 1.0,
    style_size: int = STYLE_SIZE,
    model: InstantModel | BundledNetworks | None = None,
) -> StylizerFactory:
    """Any painting through the instant network (load_instant's unless model is given).

    With the bundled networks, strength under 1 moves the painting's embedding towards the shot's first frame's
    own (Ghiasi et al.): that blend is the shot's colour statistics, computed once per shot. TensorFlow's network
    blends the pixels instead (see InstantModel.apply), which needs nothing per shot.
    """
    check_range("strength", strength, STYLE_AMOUNT_RANGE)
    check_range("style_size", style_size, STYLE_SIZE_RANGE, integer=True)
    picture = images.load_image(painting, "style image")
    network = model or load_instant()
    code = network.style_code(picture, int(style_size))

    def shot(first: np.ndarray) -> FrameStylizer:
        if isinstance(network, BundledNetworks):
            shot_code = network.blended_code(first, code, strength)
            return lambda frame: network.transform(frame, shot_code)
        assert isinstance(network, InstantModel)
        return lambda frame: network.apply(frame, code, strength)

    return shot


def builtin_frames(spec: int | str, strength: float = 1.0, networks: BundledNetworks | None = None) -> StylizerFactory:
    """A built-in style or blend ("3:0.6,12:0.4"); strength blends stylised and original pixels. Its network is
    fused inside (TrunkStylizer): its bold strokes, fused as pixels, were averaged into a blur."""
    check_range("strength", strength, STYLE_AMOUNT_RANGE)
    style = BuiltinStyle(spec, networks)

    def run(frame: np.ndarray, fuse: Fuse | None) -> np.ndarray:
        return _mixed(style.networks.builtin(frame, style.weights, fuse), frame, strength)

    return lambda first: TrunkStylizer(run)


def trained_frames(model: keras.Model, precision: str = "float32", strength: float = 1.0) -> StylizerFactory:
    """A trained transformation network (load_transformer's), traced once for the clip's frame size."""
    check_range("strength", strength, STYLE_AMOUNT_RANGE)
    network = traced(model, precision)
    return lambda first: _blended(lambda frame: network(tf.constant(frame[None])).numpy()[0], strength)


def _blended(stylize: FrameStylizer, strength: float) -> FrameStylizer:
    return lambda frame: _mixed(stylize(frame), frame, strength)


def _mixed(stylized: np.ndarray, frame: np.ndarray, strength: float) -> np.ndarray:
    """The stylised frame with `strength` of the style: the rest is the frame's own pixels."""
    return np.clip(stylized if strength == 1.0 else strength * stylized + (1.0 - strength) * frame, 0.0, 1.0)
