"""Keeping the content's colours: luminance-only transfer, and matching the style's colours to the content's."""

from __future__ import annotations

import numpy as np

from .images import array_to_float_rgb, resize

# BT.601 full-range YCbCr (JPEG/JFIF's), rather than the YIQ of Gatys et al.'s "Preserving Color in Neural
# Artistic Style Transfer": both are linear luma/chroma splits that work equally well here, but this one is
# what Pillow's "YCbCr" mode and every JPEG use, so our numbers can be checked against an independent tool.
# Offsets are left out: they cancel, since chroma goes back through the exact inverse unchanged.
RGB_TO_YCBCR = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.168736, -0.331264, 0.5],
        [0.5, -0.418688, -0.081312],
    ],
    dtype=np.float64,
)
YCBCR_TO_RGB = np.linalg.inv(RGB_TO_YCBCR)


def to_ycbcr(image: np.ndarray) -> np.ndarray:
    """Float RGB HxWx3 to Y in [0, 1] and Cb, Cr centred on 0 (in [-0.5, 0.5])."""
    return np.asarray(image, dtype=np.float64) @ RGB_TO_YCBCR.T


def from_ycbcr(ycbcr: np.ndarray) -> np.ndarray:
    return ycbcr @ YCBCR_TO_RGB.T


def keep_luminance(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The result's luminance with the content's chroma, at the result's size: float32 RGB in [0, 1]."""
    _check_rgb("result", result)
    _check_rgb("content", content)
    if content.shape[:2] != result.shape[:2]:
        content = resize(content, result.shape[:2])
    combined = to_ycbcr(content)
    combined[..., 0] = to_ycbcr(result)[..., 0]
    # A dark luminance under a saturated chroma can leave the RGB cube; clipping there is the least visible fix.
    return np.clip(from_ycbcr(combined), 0.0, 1.0).astype(np.float32)


def chroma_spread(paintings: list[np.ndarray]) -> float:
    """The largest standard deviation of the paintings' chroma (YCbCr's Cb and Cr): 0 for greyscale ones."""
    return max(float(np.std(to_ycbcr(array_to_float_rgb(p, "painting"))[..., 1:])) for p in paintings)


def limit_chroma(change: np.ndarray, spread: float) -> np.ndarray:
    """change (float HxWx3, a difference of two pictures) with its chroma no more spread than spread (the
    paintings' own, chroma_spread): a greyscale painting's change is grey. The instant network's detail tinted a
    greyscale painting's poster, and the tiles' L-BFGS steps speckled it with colour."""
    ycbcr = to_ycbcr(change)
    own = float(np.std(ycbcr[..., 1:]))
    if own > spread:
        ycbcr[..., 1:] *= spread / own
    return from_ycbcr(ycbcr).astype(np.float32)


def match_histogram(source: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """source recoloured so each RGB channel has the reference's distribution; float32, the source's shape.

    Used on the style image with the content as the reference, before transfer, so the painting's strokes
    come out in the photo's colours. scikit-image's exposure.match_histograms does the same per-channel CDF
    matching (this is its algorithm), but would bring scikit-image and its imageio, tifffile, networkx and
    lazy_loader dependencies into the runtime for these few lines.
    """
    _check_rgb("source", source)
    _check_rgb("reference", reference)
    channels = [_match_channel(source[..., c], reference[..., c]) for c in range(3)]
    return np.stack(channels, axis=-1).astype(np.float32)


def match_colour_statistics(source: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """source recoloured by the affine map that gives its pixels the reference's RGB mean and covariance.

    Gatys et al., "Controlling Perceptual Factors in Neural Style Transfer" (2017), section 5: x' = A (x - mu_s)
    + mu_r with A = Sigma_r^(1/2) Sigma_s^(-1/2). Unlike per-channel histograms it keeps the channels'
    correlation, so a greyscale painting gives a grey picture and a dark one a dark picture, without colour casts.
    """
    _check_rgb("source", source)
    _check_rgb("reference", reference)
    pixels, reference_pixels = source.reshape(-1, 3).astype(np.float64), reference.reshape(-1, 3).astype(np.float64)
    transform = _sqrt_psd(np.cov(reference_pixels.T)) @ _sqrt_psd(np.cov(pixels.T), inverse=True)
    matched = (pixels - pixels.mean(0)) @ transform.T + reference_pixels.mean(0)
    return np.clip(matched, 0.0, 1.0).reshape(source.shape).astype(np.float32)


def _sqrt_psd(matrix: np.ndarray, inverse: bool = False) -> np.ndarray:
    """The symmetric square root (or inverse square root) of a covariance; near-zero variances are floored."""
    values, vectors = np.linalg.eigh(matrix)
    values = np.maximum(values, 1e-5)  # a flat channel: no division by zero, and no huge gain on its noise
    return (vectors * values ** (-0.5 if inverse else 0.5)) @ vectors.T


def _match_channel(source: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Map each source value to the reference value at the same quantile; equal values stay equal."""
    values, where, counts = np.unique(source.ravel(), return_inverse=True, return_counts=True)
    reference_values, reference_counts = np.unique(reference.ravel(), return_counts=True)
    quantiles = np.cumsum(counts) / source.size
    reference_quantiles = np.cumsum(reference_counts) / reference.size
    return np.interp(quantiles, reference_quantiles, reference_values)[where].reshape(source.shape)


def _check_rgb(what: str, image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[-1] != 3:
        shape = getattr(image, "shape", type(image).__name__)
        raise ValueError(f"{what} has shape {shape} but must be a float HxWx3 RGB array in [0, 1]")
