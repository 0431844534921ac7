"""What the loop minimises: the weighted style, content and TV terms of a picture against fixed targets."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..core.cache import picture_key
from .losses import content_loss, gram_matrices, style_loss, total_variation_loss, weighted_sum
from .networks import FeatureNetwork
from .weights import LossWeights


class Objective:
    """The weighted sum of style, content and TV losses of a picture against fixed targets.

    scales multiplies each term before its weight: 1 for the seed's raw terms, 1 / (the term's value for the
    photo) when normalised (see term_scales). With a mask, the optimized pixels x only show where the mask is:
    the picture is base + mask * (x - base), so outside the mask it stays the content and the edge blends.
    """

    def __init__(
        self,
        network: FeatureNetwork,
        content_targets: dict,
        style_targets: dict,
        weights: LossWeights,
        layer_weights: dict[str, float] | None = None,
        mask: np.ndarray | None = None,
        base: np.ndarray | None = None,
        scales: LossWeights = LossWeights(1.0, 1.0, 1.0),
    ):
        self.network = network
        self.content_targets = content_targets
        self.style_targets = style_targets
        self.scales = scales
        self.mask = None if mask is None else tf.constant(mask[None, :, :, None], tf.float32)
        self.base = None if base is None else tf.constant(base[None], tf.float32)
        equal = {name: 1.0 / len(style_targets) for name in style_targets}  # the seed's, as style_loss's default
        self.layer_tensors = {
            name: tf.constant(weight, tf.float32) for name, weight in (layer_weights or equal).items()
        }
        self.set_weights(weights)

    def compose(self, x):
        """The picture shown for optimized pixels x (x itself without a mask)."""
        return composed(x, self.mask, self.base)

    def __call__(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return losses_of(self.network, x, self.arguments())

    def arguments(self) -> dict:
        """Everything the losses need besides the pixels, as tensors: a function traced once per network takes
        them as arguments (not captured), so every scale and every run reuses its trace (see optimizers.py)."""
        return {
            "content": self.content_targets,
            "style": self.style_targets,
            "layers": self.layer_tensors,
            "weights": self.term_weights,
            "mask": self.mask,
            "base": self.base,
        }

    def set_weights(self, weights: LossWeights) -> None:
        """New loss weights from the next evaluation on (steering)."""
        self.term_weights = {
            "style": tf.constant(weights.style * self.scales.style, tf.float32),
            "content": tf.constant(weights.content * self.scales.content, tf.float32),
            "tv": tf.constant(weights.tv * self.scales.tv, tf.float32),
        }


def losses_of(network: FeatureNetwork, x: tf.Tensor, arguments: dict) -> dict[str, tf.Tensor]:
    """The weighted loss terms of optimized pixels x, given Objective.arguments()."""
    image = composed(x, arguments["mask"], arguments["base"])
    features = network(image)
    grams = gram_matrices(features, network.style_layers)
    return weighted_sum(
        {
            "style": style_loss(grams, arguments["style"], arguments["layers"]),
            "content": content_loss(features, arguments["content"]),
            "tv": total_variation_loss(image),
        },
        arguments["weights"],
    )


def composed(x, mask, base):
    """Optimized pixels x shown through a mask: base + mask * (x - base); x itself without one."""
    return x if mask is None else base + mask * (x - base)


def style_targets(network: FeatureNetwork, style: np.ndarray) -> dict[str, tf.Tensor]:
    """Gram matrices of a style picture, remembered across runs: re-running with the same style costs nothing."""
    return network.style_cache.get_or_make(
        picture_key(style), lambda: gram_matrices(network(tf.constant(style[None])), network.style_layers)
    )


def build_objective(
    network: FeatureNetwork,
    content: np.ndarray,
    style: np.ndarray | list[np.ndarray],
    weights: LossWeights,
    blend: tuple[float, ...] = (),
    layer_weights: dict | None = None,
    mask: np.ndarray | None = None,
    normalize: bool = False,
    content_layers: tuple[str, ...] = (),
) -> Objective:
    """The objective for one scale; several styles are blended by averaging their Gram matrices with blend.

    layer_weights None weighs the style layers equally (exactly as the seed). normalize divides every term by
    its value for the photo (term_scales), so a weight means the same for any painting, photo, size and network.
    content_layers () compares the network's own (its first CONTENT_LAYERS).
    """
    styles = style if isinstance(style, list) else [style]
    blend = blend or (1.0,) * len(styles)
    per_style = [style_targets(network, picture) for picture in styles]
    blended = {
        name: tf.add_n([w * targets[name] for w, targets in zip(blend, per_style)]) / sum(blend)
        for name in network.style_layers
    }
    content_features = network(tf.constant(content[None]))
    content_targets = {name: content_features[name] for name in content_layers or network.content_layers}
    scales = LossWeights(1.0, 1.0, 1.0)
    if normalize or layer_weights is not None:
        content_grams = gram_matrices(content_features, network.style_layers)
        start = {
            name: float(tf.reduce_mean(tf.square(content_grams[name] - blended[name]))) for name in network.style_layers
        }
        layer_weights = layer_weights or {name: 1.0 / len(start) for name in start}
        if normalize:
            energy = {name: float(tf.reduce_mean(tf.square(blended[name]))) for name in network.style_layers}
            layer_weights, scales = term_scales(start, energy, layer_weights, content_targets, content)
        else:
            # Shifting weight to deep layers, whose Gram differences are far smaller, would fade the style away:
            # rescale so the photo's style loss stays what equal weights give, and only the balance changes.
            scale = (sum(start.values()) / len(start)) / max(sum(layer_weights[n] * start[n] for n in start), 1e-30)
            layer_weights = {name: weight * scale for name, weight in layer_weights.items()}
    return Objective(
        network, content_targets, blended, weights, layer_weights, mask, None if mask is None else content, scales
    )


def term_scales(
    style_start: dict[str, float],
    style_energy: dict[str, float],
    layer_weights: dict[str, float],
    content_targets: dict,
    content: np.ndarray,
) -> tuple[dict[str, float], LossWeights]:
    """Per-layer style weights and term scales that make each loss term 1 for the photo itself.

    Gatys et al. fix the scale of each layer's term at 1/(4 N^2 M^2), but a painting's Gram matrices differ by
    orders of magnitude from one painting, layer and network to the next, so one weight is strong for one
    painting and invisible for another. Here each style layer is divided by the photo's own distance to the
    painting at that layer (the photo scores 1 on every layer, the painting 0), the content term by the
    photo's feature energy, and TV by the photo's own total variation. The terms are still mean squares, so
    L-BFGS sees a true objective (unlike per-layer gradient normalisation in the backward pass).
    """
    # A painting (almost) identical to the photo at a layer: its term is measured against the painting's own energy.
    weights = {
        name: layer_weights[name] / max(style_start[name], 1e-6 * style_energy[name], 1e-30) for name in style_start
    }
    energy = float(tf.add_n([tf.reduce_mean(tf.square(t)) for t in content_targets.values()])) / len(content_targets)
    # A flat photo has almost no TV of its own: count at least 1% of full contrast between neighbours.
    tv = max(float(total_variation_loss(tf.constant(content[None]))), 0.01 * content.shape[0] * content.shape[1])
    return weights, LossWeights(style=1.0, content=1.0 / max(energy, 1e-30), tv=1.0 / tv)
