"""The example pictures: drawn deterministically from a seed, and the committed files are the sizes the app expects."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ASSETS = Path(__file__).resolve().parent.parent / "assets"


@pytest.fixture(scope="module")
def examples():
    spec = importlib.util.spec_from_file_location("make_examples", ASSETS / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name, draw, shape",
    [
        ("landscape", lambda m, seed: m.landscape(96, 64, seed=seed), (64, 96, 3)),
        ("swirls", lambda m, seed: m.swirls(64, seed=seed), (64, 64, 3)),
        ("mosaic", lambda m, seed: m.mosaic(64, seed=seed), (64, 64, 3)),
    ],
)
def test_drawing_is_deterministic_and_uses_the_seed(examples, name, draw, shape):
    first, again, other = draw(examples, 5), draw(examples, 5), draw(examples, 6)
    assert first.shape == shape and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    assert np.abs(first.astype(int) - other).mean() > 1.0  # another seed draws another picture
    assert first.std() > 20  # a picture with content, not a flat fill


def test_each_part_has_its_own_random_stream(examples):
    """Retuning one part of a picture must not reshuffle the others, so streams differ by part and repeat by seed."""
    assert examples.stream(1, "clouds").random() == examples.stream(1, "clouds").random()
    assert examples.stream(1, "clouds").random() != examples.stream(1, "rock").random()


@pytest.mark.parametrize(
    "name, size",
    [
        ("content_landscape.png", (768, 512)),
        ("style_swirls.png", (512, 512)),
        ("style_mosaic.png", (512, 512)),
    ],
)
def test_committed_pictures_have_their_sizes_and_stay_small(name, size):
    path = ASSETS / name
    with Image.open(path) as image:
        assert image.size == size and image.mode == "RGB"
    assert path.stat().st_size < 700 * 1024
