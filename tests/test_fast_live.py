"""The webcam path: frames in and out as uint8, None passed through, one trace for every frame size."""

import numpy as np
import pytest

from stylize.fast.instant import load_instant
from stylize.fast.live import stylize_frame
from stylize.fast.transformer import build_transformer, traced


@pytest.fixture(scope="module")
def network():
    import keras

    keras.utils.set_random_seed(2)
    return build_transformer(width=0.25, residual_blocks=1)


def frame(height=48, width=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_none_frames_give_none(network):
    assert stylize_frame(network, None) is None


def test_frames_come_back_as_uint8_of_the_same_or_scaled_size(network):
    result = stylize_frame(network, frame())
    assert result.dtype == np.uint8 and result.shape == (48, 64, 3)
    assert stylize_frame(network, frame(240, 320), size=160).shape == (120, 160, 3)
    rgba = np.dstack([frame(), np.full((48, 64), 255, np.uint8)])
    assert stylize_frame(network, rgba).shape == (48, 64, 3)


def test_every_frame_size_reuses_one_trace(network):
    stylize_frame(network, frame(32, 40))
    function = traced(network)
    traces = function.experimental_get_tracing_count()
    for shape in [(48, 64), (33, 47), (64, 48)]:
        stylize_frame(network, frame(*shape))
    assert function.experimental_get_tracing_count() == traces == 1


def test_strength_zero_returns_the_frame(network):
    original = frame()
    np.testing.assert_array_equal(stylize_frame(network, original, strength=0.0), original)


def test_the_instant_network_needs_and_uses_a_style(stand_in_folder, style):
    model = load_instant(stand_in_folder)
    with pytest.raises(ValueError, match="needs a style picture"):
        stylize_frame(model, frame())
    result = stylize_frame(model, frame(), style=(style * 255).astype(np.uint8))
    assert result.dtype == np.uint8 and result.shape == (48, 64, 3)
