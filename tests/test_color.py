"""Colour keeping: luminance from the result, chroma from the content; histogram matching per channel."""

import numpy as np
import pytest
from PIL import Image

from stylize.core import color
from stylize.core.color import keep_luminance, match_colour_statistics, match_histogram, to_ycbcr
from stylize.core.images import resize, to_uint8


def muted(picture: np.ndarray) -> np.ndarray:
    """Squeeze a picture towards grey so a luminance/chroma mix stays inside the RGB cube (no clipping)."""
    return (0.35 + 0.3 * picture).astype(np.float32)


def test_ycbcr_luminance_agrees_with_pillow(make_picture):
    picture = to_uint8(make_picture(20, 24, seed=3))
    pillow = np.asarray(Image.fromarray(picture).convert("YCbCr"), dtype=np.float64)
    ours = to_ycbcr(picture / 255.0) * 255.0
    ours[..., 1:] += 128.0  # Pillow stores chroma offset by half the range
    assert np.abs(ours - pillow).max() <= 1.0


def test_keep_luminance_takes_luminance_from_result_and_chroma_from_content(make_picture):
    result, content = muted(make_picture(24, 32, seed=4)), muted(make_picture(24, 32, seed=5))
    output = keep_luminance(result, content)
    assert output.dtype == np.float32 and output.shape == result.shape
    out, res, con = to_ycbcr(output), to_ycbcr(result), to_ycbcr(content)
    np.testing.assert_allclose(out[..., 0], res[..., 0], atol=1e-5)
    np.testing.assert_allclose(out[..., 1:], con[..., 1:], atol=1e-5)
    # The mix really differs from both inputs: the test would catch returning either one.
    assert np.abs(output - result).max() > 0.05 and np.abs(output - content).max() > 0.05


def test_keep_luminance_resizes_content_to_the_result(make_picture):
    result, content = muted(make_picture(24, 32, seed=4)), muted(make_picture(60, 50, seed=5))
    output = keep_luminance(result, content)
    assert output.shape == (24, 32, 3)
    np.testing.assert_allclose(to_ycbcr(output)[..., 0], to_ycbcr(result)[..., 0], atol=1e-5)
    np.testing.assert_allclose(to_ycbcr(output)[..., 1:], to_ycbcr(resize(content, (24, 32)))[..., 1:], atol=1e-5)


def test_keep_luminance_clips_out_of_gamut_mixes():
    white = np.ones((16, 16, 3), np.float32)
    saturated_red = np.zeros((16, 16, 3), np.float32)
    saturated_red[..., 0] = 1.0
    output = keep_luminance(white, saturated_red)  # full luminance plus strong chroma lies outside the cube
    assert output.min() >= 0.0 and output.max() <= 1.0
    assert output[0, 0, 0] == 1.0 and output[0, 0, 1] < 1.0  # still reddish, not white


def test_keep_luminance_refuses_non_rgb():
    with pytest.raises(ValueError, match=r"content has shape \(16, 16\) but must be a float HxWx3"):
        keep_luminance(np.zeros((16, 16, 3), np.float32), np.zeros((16, 16), np.float32))


def test_match_histogram_gives_the_references_distribution(make_picture):
    source = make_picture(40, 48, seed=6) ** 2  # skewed dark
    reference = muted(make_picture(64, 64, seed=7))
    output = match_histogram(source, reference)
    assert output.shape == source.shape and output.dtype == np.float32
    for c in range(3):
        assert abs(output[..., c].mean() - reference[..., c].mean()) < 0.01
        np.testing.assert_allclose(
            np.quantile(output[..., c], [0.1, 0.5, 0.9]), np.quantile(reference[..., c], [0.1, 0.5, 0.9]), atol=0.01
        )
    assert abs(source[..., 0].mean() - reference[..., 0].mean()) > 0.05  # there was something to fix


def test_match_histogram_keeps_the_order_of_values(make_picture):
    source = make_picture(32, 32, seed=8)
    output = match_histogram(source, muted(make_picture(32, 32, seed=9)))
    order = np.argsort(source[..., 1].ravel(), kind="stable")
    assert np.all(np.diff(output[..., 1].ravel()[order]) >= 0)  # monotone: brighter stays brighter


def test_match_colour_statistics_gives_the_references_mean_and_covariance(make_picture):
    source = muted(make_picture(40, 50, seed=3))
    reference = muted(make_picture(30, 30, seed=4)[..., ::-1])
    matched = match_colour_statistics(source, reference)
    assert matched.shape == source.shape and matched.dtype == np.float32
    pixels, reference_pixels = matched.reshape(-1, 3), reference.reshape(-1, 3)
    np.testing.assert_allclose(pixels.mean(0), reference_pixels.mean(0), atol=2e-3)
    np.testing.assert_allclose(np.cov(pixels.T), np.cov(reference_pixels.T), atol=2e-3)


def test_match_colour_statistics_to_a_grey_dark_painting_is_grey_and_dark(make_picture):
    photo = make_picture(40, 50, seed=5)
    grey_dark = np.repeat(0.3 * make_picture(30, 30, seed=6)[..., :1], 3, axis=-1)
    matched = match_colour_statistics(photo, grey_dark)
    assert np.abs(matched - matched.mean(-1, keepdims=True)).max() < 0.01  # no colour left
    assert abs(matched.mean() - grey_dark.mean()) < 0.01


def test_limit_chroma_makes_a_greyscale_paintings_change_grey_and_leaves_a_colourful_ones(make_picture):
    change = np.random.default_rng(0).normal(0.0, 0.1, (32, 48, 3))
    grey = np.repeat(make_picture(40, 40, 0)[..., :1], 3, axis=-1)
    limited = color.limit_chroma(change, color.chroma_spread([grey]))
    np.testing.assert_allclose(color.to_ycbcr(limited)[..., 1:], 0.0, atol=1e-6)  # no tint left
    np.testing.assert_allclose(color.to_ycbcr(limited)[..., 0], color.to_ycbcr(change)[..., 0], atol=1e-6)
    colourful = np.random.default_rng(1).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    np.testing.assert_allclose(color.limit_chroma(change, color.chroma_spread([colourful])), change, atol=1e-6)
