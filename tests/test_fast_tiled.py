"""Feed-forward networks at full size in tiles: the detail is the tiles', the colours the whole picture's."""

import numpy as np

from stylize.core import images
from stylize.fast import bundled, instant
from stylize.fast.tiled import detail_sigma, paint_in_tiles


def fine_energy(picture: np.ndarray) -> float:
    """The mean squared step between neighbouring pixels: what an enlarged picture lacks."""
    grey = picture.astype(np.float32).mean(axis=-1)
    return float(np.mean(np.diff(grey, axis=0) ** 2) + np.mean(np.diff(grey, axis=1) ** 2))


def test_tiles_add_only_detail_finer_than_the_guide(make_picture):
    guide = make_picture(300, 500, seed=1)
    noise = np.random.default_rng(0).uniform(0, 1, guide.shape).astype(np.float32)
    painted = paint_in_tiles(guide, noise, lambda tile: tile, tile=128, sigma=3.0)
    assert painted.shape == guide.shape
    assert fine_energy(painted) > 5 * fine_energy(guide)  # the tiles' detail is there
    small = (30, 50)
    assert np.abs(images.resize(painted, small) - images.resize(guide, small)).mean() < 0.02  # the guide's colours
    same = paint_in_tiles(guide, guide, lambda tile: np.full_like(tile, 0.3), tile=128, sigma=3.0)
    np.testing.assert_allclose(same, guide, atol=1e-5)  # a flat tile has no detail to add: no seams either


def test_detail_sigma_follows_the_enlargement():
    assert detail_sigma(384, 2048) == 4.0
    assert detail_sigma(384, 384) == 1.0 and detail_sigma(384, 40960) == 8.0


def test_the_instant_network_paints_a_large_picture_at_1_to_1(make_picture):
    photo, painting = make_picture(600, 800, seed=3), make_picture(256, 256, seed=4)
    tiled = instant.instant_stylize(photo, painting, size=1200)
    assert tiled.shape == (900, 1200, 3)
    model = instant.load_instant()
    enlarged = images.to_uint8(
        images.resize(model.apply(images.resize_longer_side(photo, 384), model.style_code(painting, 256)), (900, 1200))
    )
    assert fine_energy(tiled) > 2 * fine_energy(enlarged)
    small = (90, 120)
    difference = np.abs(images.resize(tiled / 255.0, small) - images.resize(enlarged / 255.0, small)).mean()
    assert difference < 0.05  # seen whole, the same picture


def test_a_builtin_style_paints_a_large_picture_in_tiles(make_picture):
    photo = make_picture(600, 800, seed=5)
    tiled = bundled.builtin_stylize(photo, 3, size=1280)
    assert tiled.shape == (960, 1280, 3)
    whole = bundled.builtin_stylize(photo, 3, size=1024)
    small = (96, 128)
    assert np.abs(images.resize(tiled / 255.0, small) - images.resize(whole / 255.0, small)).mean() < 0.05
