"""The fine scale of a poster: a tile's pixels optimized for the painting's fine texture while, seen from afar, it
stays the whole-picture run's picture.

Three terms, each a mean so that a tile's size doesn't change their balance:
- texture: the shallow layers' Gram matrices against the painting's, for the whole painting at its own resolution
  (every tile aims at the same global statistics, so no tile drifts to a style of its own);
- fidelity: the tile shrunk to the coarse picture's resolution against the coarse picture there. It fixes what the
  whole-picture run decided (composition, colours, the large strokes) and leaves free only the detail it could not
  hold, which is where Gatys' content term at block5 would have pulled the picture back towards the photo;
- smoothness: total variation, against pixel noise.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..gatys.losses import gram_matrices, style_loss, total_variation_loss, weighted_sum
from ..gatys.networks import FeatureNetwork
from ..gatys.optimizers import LBFGS_MEMORY, lbfgsb_iterates, traced_gradient

# block1-3's first convolutions see 3 to 24 px: the brush's own marks. Deeper layers see shapes the whole-picture
# run has already set, and would cost 2-3x as much a step (VGG19's block3 ends at 57% of its multiply-adds, but
# these layers are read at block3_conv1, 28%).
DETAIL_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1")


@dataclass(frozen=True)
class DetailWeights:
    """The three terms' weights; each term is scaled so that 1 means the same for any painting and tile."""

    texture: float = 1.0
    fidelity: float = 30.0
    smoothness: float = 0.02


def texture_targets(network: FeatureNetwork, paintings: list[np.ndarray], blend: tuple[float, ...] = ()):
    """The paintings' Gram matrices at DETAIL_LAYERS (blended), and each layer's weight: one over the target's
    energy and the number of layers, so every layer's term is relative and a painting's contrast doesn't set it."""
    targets = blended_grams([painting_grams(network, p) for p in paintings], blend)
    layer_weights = {
        name: tf.constant(1.0 / (len(targets) * max(float(tf.reduce_mean(tf.square(t))), 1e-12)), tf.float32)
        for name, t in targets.items()
    }
    return targets, layer_weights


def blended_grams(per_painting: list[dict[str, tf.Tensor]], blend: tuple[float, ...] = ()) -> dict[str, tf.Tensor]:
    """Several paintings' Gram matrices as one target: their mean, weighted by blend (() weighs them equally)."""
    blend = blend or (1.0,) * len(per_painting)
    return {
        name: tf.add_n([w * grams[name] for w, grams in zip(blend, per_painting)]) / sum(blend)
        for name in per_painting[0]
    }


GRAM_TILE = 512  # a painting's Gram matrices are summed over pieces of this side: block1's maps of a whole 4096 px
# painting would take 4 GB each


def painting_grams(network: FeatureNetwork, painting: np.ndarray) -> dict[str, tf.Tensor]:
    """A painting's Gram matrices at the network's style layers, over the whole painting at any size: the mean of its
    pieces' (a Gram matrix is a mean over positions), each weighed by its pixels."""
    height, width = painting.shape[:2]
    sums: dict[str, tf.Tensor] = {}
    # Equal pieces, none thinner than half a GRAM_TILE: a sliver would have no pixels left at block3.
    for rows in np.array_split(np.arange(height), -(-height // GRAM_TILE)):
        for columns in np.array_split(np.arange(width), -(-width // GRAM_TILE)):
            piece = painting[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
            share = piece.shape[0] * piece.shape[1] / (height * width)
            grams = gram_matrices(network(tf.constant(piece[None])), network.style_layers)
            sums = {name: sums.get(name, 0.0) + share * gram for name, gram in grams.items()}
    return sums


def detail_losses(network: FeatureNetwork, x: tf.Tensor, arguments: dict) -> dict[str, tf.Tensor]:
    """The weighted terms for tile pixels x (1xHxWx3), given the targets and the coarse picture under the tile."""
    coarse = arguments["coarse"]
    features = network(x)
    shrunk = tf.image.resize(x, tf.shape(coarse)[1:3], method="bilinear", antialias=True)  # area has no gradient
    pixels = tf.cast(tf.shape(x)[1] * tf.shape(x)[2], tf.float32)
    return weighted_sum(
        {
            "style": style_loss(gram_matrices(features, network.style_layers), arguments["style"], arguments["layers"]),
            "content": tf.reduce_mean(tf.square(shrunk - coarse)) / arguments["coarse_variance"],
            "tv": total_variation_loss(x) / pixels,
        },
        arguments["weights"],
    )


def traced_detail(network: FeatureNetwork):
    """detail_losses and its gradient, traced once per network and kept with it (tiles of every size reuse it)."""
    return traced_gradient(network, detail_losses, "detail")


def tile_arguments(targets: dict, layer_weights: dict, coarse: np.ndarray, weights: DetailWeights) -> dict:
    """What detail_losses needs besides the pixels, as tensors (arguments of the traced step, not captured)."""
    return {
        "style": targets,
        "layers": layer_weights,
        "coarse": tf.constant(coarse[None], tf.float32),
        "coarse_variance": tf.constant(max(float(np.var(coarse)), 1e-4), tf.float32),
        "weights": {
            "style": tf.constant(weights.texture, tf.float32),
            "content": tf.constant(weights.fidelity, tf.float32),
            "tv": tf.constant(weights.smoothness, tf.float32),
        },
    }


def tile_iterates(
    network: FeatureNetwork,
    start: np.ndarray,
    coarse: np.ndarray,
    targets: dict,
    layer_weights: dict,
    weights: DetailWeights,
    most: int = 500,
) -> Generator[tuple[np.ndarray, dict[str, float]], None, None]:
    """L-BFGS on one tile from start (HxWx3 float), the coarse picture under it being coarse (hxwx3): yields the
    tile and its losses after each iteration, up to most; the caller stops when its plan says (closing it)."""
    shape = (1, *start.shape)
    arguments = tile_arguments(targets, layer_weights, coarse, weights)
    evaluate = traced_detail(network)
    last: dict[str, tf.Tensor] = {}

    def value_and_gradient(x: np.ndarray):
        losses, gradient = evaluate(tf.constant(x.reshape(shape), tf.float32), arguments)
        last.update(losses)
        return float(losses["total"]), gradient.numpy().astype(np.float64).ravel()

    for x in lbfgsb_iterates(value_and_gradient, start.astype(np.float64).ravel(), LBFGS_MEMORY, most, 3 * most):
        yield x.astype(np.float32).reshape(start.shape), {name: float(value) for name, value in last.items()}


def warm_up_detail(network: FeatureNetwork) -> None:
    """Trace the tiles' step on two small tiles (generalised to any size), so that no poster's budget pays for it."""
    for side in (32, 48):
        picture = np.full((side, side, 3), 0.5, np.float32)
        targets, layer_weights = texture_targets(network, [picture])
        for _ in tile_iterates(network, picture, picture[::4, ::4], targets, layer_weights, DetailWeights(), most=1):
            pass


# The pace's measure: PACE_STEPS steps on a tile of a poster's side, of noise, the first left out (it evaluates
# twice). A 384 px tile took 2 s less on one AVX2 core in float32 but measured 13% under its tiles' pace (9.0 s a
# megapixel against 10.3-10.7); a 512 px one 10.3-10.5. Natively both read 2.5-2.9 against the tiles' 2.4-2.6.
PACE_SIDE, PACE_STEPS = 512, 3


def measure_tile_step(network: FeatureNetwork) -> float:
    """Seconds a tile step takes per megapixel of tile on this machine: the median of the steps after the first on
    a tile of noise aiming at another noise's texture (a flat tile would converge at once)."""
    noise = np.random.default_rng(0).random((2, PACE_SIDE, PACE_SIDE, 3), dtype=np.float32)
    targets, layer_weights = texture_targets(network, [noise[1]])
    times, last = [], time.perf_counter()
    for _ in tile_iterates(network, noise[0], noise[0][::4, ::4], targets, layer_weights, DetailWeights(), PACE_STEPS):
        now = time.perf_counter()
        times.append(now - last)
        last = now
    return statistics.median(times[1:] or times) / (PACE_SIDE * PACE_SIDE / 1e6)
