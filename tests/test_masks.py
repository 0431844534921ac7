"""Masks from painted ImageEditor layers: 1 where painted, 0 far away, a smooth ramp between."""

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from studio.masks import mask_from_editor
from stylize.core.images import resize


def layer_with_square(height: int, width: int, top: int, left: int, side: int) -> np.ndarray:
    """An RGBA layer as the canvas exports it: transparent black, with an opaque red square painted."""
    layer = np.zeros((height, width, 4), np.uint8)
    layer[top : top + side, left : left + side] = (255, 0, 0, 255)
    return layer


def editor(*layers) -> dict:
    background = np.full((64, 64, 4), 200, np.uint8)
    return {"background": background, "layers": list(layers), "composite": background}


def test_painted_square_is_one_inside_zero_far_outside_with_a_ramp_at_the_edge():
    mask = mask_from_editor(editor(layer_with_square(64, 64, 16, 16, 32)), (64, 64), feather=0.05)
    assert mask.shape == (64, 64) and mask.dtype == np.float32
    assert mask[32, 32] == pytest.approx(1.0, abs=1e-4) and mask[2, 2] == pytest.approx(0.0, abs=1e-4)
    row = mask[32, 4:29]  # from far outside across the left edge (column 16) to well inside
    assert np.all(np.diff(row) >= -1e-6)
    assert mask[32, 16] == pytest.approx(0.5, abs=0.1)  # the painted edge sits at the middle of the ramp
    assert np.sum((row > 0.05) & (row < 0.95)) >= 4  # a ramp several pixels wide, not a step


def test_without_feather_the_mask_is_the_painted_area():
    mask = mask_from_editor(editor(layer_with_square(64, 64, 16, 16, 32)), (64, 64), feather=0.0)
    expected = np.zeros((64, 64), np.float32)
    expected[16:48, 16:48] = 1.0
    np.testing.assert_allclose(mask, expected, atol=1e-6)


def test_mask_is_resized_to_shape_and_joins_all_layers():
    left, right = layer_with_square(64, 64, 24, 0, 16), layer_with_square(64, 64, 24, 48, 16)
    mask = mask_from_editor(editor(left, right), (32, 96), feather=0.0)
    assert mask.shape == (32, 96)
    assert mask[16, 8] > 0.99 and mask[16, 88] > 0.99 and mask[16, 48] < 0.01 and mask[2, 8] < 0.01


def test_large_masks_are_blurred_on_a_coarse_grid_without_visible_difference():
    layer = layer_with_square(200, 160, 50, 40, 80)
    shape = (1000, 800)
    full = resize((layer[..., 3:] > 0).astype(np.float32), shape)[..., 0]
    for feather, tolerance in ((0.02, 0.001), (0.25, 0.01)):
        mask = mask_from_editor(editor(layer), shape, feather=feather)
        reference = ndimage.gaussian_filter(full, feather * 1000, mode="nearest")
        assert np.abs(mask - reference).max() < tolerance


def test_nothing_painted_gives_none():
    assert mask_from_editor(None, (8, 8)) is None
    assert mask_from_editor(editor(), (8, 8)) is None
    colour_but_transparent = np.zeros((64, 64, 4), np.uint8)
    colour_but_transparent[..., :3] = 90  # colour under alpha 0 is no paint
    assert mask_from_editor(editor(colour_but_transparent, np.zeros((64, 64, 4), np.uint8)), (8, 8)) is None


def test_pil_and_file_layers_are_read(tmp_path):
    layer = layer_with_square(64, 64, 16, 16, 32)
    Image.fromarray(layer).save(tmp_path / "layer.png")
    from_array = mask_from_editor(editor(layer), (64, 64))
    np.testing.assert_array_equal(mask_from_editor(editor(Image.fromarray(layer)), (64, 64)), from_array)
    np.testing.assert_array_equal(mask_from_editor(editor(str(tmp_path / "layer.png")), (64, 64)), from_array)


def test_value_from_gradios_own_preprocess(tmp_path):
    """The real component turns the browser's PNG blobs into the dict we read: check we agree with it."""
    import gradio as gr
    from gradio.components.image_editor import EditorData
    from gradio.data_classes import FileData

    Image.fromarray(layer_with_square(64, 64, 16, 16, 32)).save(tmp_path / "layer_0.png")
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(tmp_path / "background.png")
    files = {name: FileData(path=str(tmp_path / f"{name}.png")) for name in ("background", "layer_0")}
    value = gr.ImageEditor().preprocess(
        EditorData(background=files["background"], layers=[files["layer_0"]], composite=files["background"])
    )
    mask = mask_from_editor(value, (64, 64), feather=0.0)
    assert mask[32, 32] > 0.99 and mask[4, 4] < 0.01


def test_layers_without_alpha_and_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"layer 0 has shape \(64, 64, 3\) but must be RGBA.*image_mode='RGBA'"):
        mask_from_editor(editor(np.zeros((64, 64, 3), np.uint8)), (64, 64))
    with pytest.raises(ValueError, match="feather is 0.5 but must be from 0 to 0.25"):
        mask_from_editor(editor(), (64, 64), feather=0.5)
    with pytest.raises(ValueError, match=r"shape is \(64, 0\) but must be \(height, width\)"):
        mask_from_editor(editor(), (64, 0))
