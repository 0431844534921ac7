"""The loss terms of Gatys et al. as small pure functions: Gram matrix, style, content, TV and their weighted sum."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import tensorflow as tf


def gram_matrix(features: tf.Tensor) -> tf.Tensor:
    """Channel correlations of BxHxWxC features, divided by H*W.

    Gatys et al. sum over positions and fold 1/(4 N^2 M^2) into the loss instead; dividing by the number of
    positions (as the TensorFlow tutorial does) keeps the style loss comparable across image sizes.
    """
    shape = tf.shape(features)
    positions = tf.cast(shape[1] * shape[2], features.dtype)
    return tf.einsum("bijc,bijd->bcd", features, features) / positions


def style_loss(
    grams: Mapping[str, tf.Tensor], targets: Mapping[str, tf.Tensor], layer_weights: Mapping[str, float] | None = None
) -> tf.Tensor:
    """Sum over layers of weight * mean squared Gram difference; default weights are 1/number of layers.

    The paper sums squared differences; the mean makes the weight independent of the channel count.
    """
    layer_weights = layer_weights or {name: 1.0 / len(targets) for name in targets}
    return tf.add_n([layer_weights[name] * tf.reduce_mean(tf.square(grams[name] - targets[name])) for name in targets])


def content_loss(features: Mapping[str, tf.Tensor], targets: Mapping[str, tf.Tensor]) -> tf.Tensor:
    """Mean over content layers of the mean squared feature difference."""
    return tf.add_n([tf.reduce_mean(tf.square(features[name] - targets[name])) for name in targets]) / len(targets)


def total_variation_loss(image: tf.Tensor) -> tf.Tensor:
    """Sum of absolute differences between neighbouring pixels (tf.image.total_variation), summed over the batch."""
    return tf.reduce_sum(tf.image.total_variation(image))


def style_layer_weights(layers: Sequence[str], emphasis: float) -> dict[str, float]:
    """Per-layer style weights summing to 1: emphasis 0 is equal (1/n each, as the seed), -1 favours the shallow
    layers (fine texture) and +1 the deep ones (large shapes), the ends differing by a factor of 100."""
    raw = [10.0 ** (2 * emphasis * (index / max(1, len(layers) - 1) - 0.5)) for index in range(len(layers))]
    return {name: value / sum(raw) for name, value in zip(layers, raw)}


def gram_matrices(features: Mapping[str, tf.Tensor], layers: Sequence[str]) -> dict[str, tf.Tensor]:
    return {name: gram_matrix(features[name]) for name in layers}


def weighted_sum(terms: Mapping[str, tf.Tensor], weights: Mapping[str, float | tf.Tensor]) -> dict[str, tf.Tensor]:
    """Each loss term times its weight (matched by name), and their sum as "total": what the optimizer minimises."""
    weighted = {name: weights[name] * term for name, term in terms.items()}
    weighted["total"] = sum(weighted.values())  # in the terms' order, as a + b + c
    return weighted
