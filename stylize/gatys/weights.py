"""The loss weights: each network's raw defaults, the normalised defaults, Strength's factor, and a run's weights."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.settings import STRENGTH_MIDDLE, Settings
from .networks import FeatureNetwork


@dataclass(frozen=True)
class LossWeights:
    style: float
    content: float
    tv: float


# Raw (unnormalised) terms: each network's layers have their own scales, so each has its own balance. Used by
# the seed preset, recipes made before normalisation, and training.
LOSS_WEIGHTS = {
    "vgg19": LossWeights(style=1e-2, content=1e4, tv=30.0),  # the seed program's (the TensorFlow tutorial's)
    "vgg16-hed": LossWeights(style=1e-1, content=1e3, tv=1.0),  # tuned by eye on photos and paintings at 512 px
}
# Normalised terms (objective.term_scales: each divided by its value for the photo) have no units, so one set
# serves every network and painting; style is the weight at Strength 5. Calibrated with bench/quality.py
# --calibration: 24 photo x painting pairs at 512 px, balanced preset (bench/README.md, "The defaults, calibrated").
NORMALIZED_WEIGHTS = LossWeights(style=10.0, content=1.0, tv=0.1)
# Strength steps that multiply the style weight by 10: bench/README.md's Strength sweep (bench/quality.py, Tübingen,
# 512 px) measured 0, 2.5 and 5 as even steps from the photo to the painting with this spacing.
STRENGTH_PER_DECADE = 2.5
# The normalised style weight at Strength 5, as a multiple of NORMALIZED_WEIGHTS.style, for each content layer:
# block4_conv2's term holds the photo's edges at a finer scale, so the same Strength takes more style. 2.5 (Strength
# 6 had it been 1) raised the VGG16-HED Gram match over block5_conv2's on six calibration pairs at 512 px in a
# minute, 1 and 1.6 less so, and then on eight more (bench/README.md, "best's content layer").
CONTENT_LAYER_STYLE = {"block5_conv2": 1.0, "block4_conv2": 2.5}


def default_weights(network_name: str, normalize: bool) -> LossWeights:
    """The weights at Strength's middle: the normalised terms' (any network), or a network's raw ones."""
    return NORMALIZED_WEIGHTS if normalize else LOSS_WEIGHTS[network_name]


def strength_factor(strength: float) -> float:
    """What Strength multiplies the default style weight by: 1 at the middle, x10 every STRENGTH_PER_DECADE."""
    return 10.0 ** ((strength - STRENGTH_MIDDLE) / STRENGTH_PER_DECADE)


def weights_or_defaults(
    network_name: str, style: float | None, content: float | None, tv: float | None, normalize: bool = False
) -> LossWeights:
    """The given loss weights, with the default (normalised terms' or the network's raw) where one is None."""
    default = default_weights(network_name, normalize)
    return LossWeights(
        style=default.style if style is None else style,
        content=default.content if content is None else content,
        tv=default.tv if tv is None else tv,
    )


def loss_weights(settings: Settings, network: FeatureNetwork) -> LossWeights:
    """A run's weights: the settings' own, with the defaults where one is None (the style's scaled by Strength)."""
    style = settings.style_weight
    if style is None:
        style = default_weights(network.name, settings.normalize).style * strength_factor(settings.strength)
        if settings.normalize:  # the raw terms' balance was set by eye for block5_conv2 only
            style *= CONTENT_LAYER_STYLE[settings.content_layer]
    return weights_or_defaults(network.name, style, settings.content_weight, settings.tv_weight, settings.normalize)
