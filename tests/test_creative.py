"""Creative controls in the engine: several styles, colours kept, layer emphasis, masks, steering, memory limits."""

import numpy as np
import pytest

from stylize import Settings, stylize
from stylize.core import costs
from stylize.core.color import to_ycbcr
from stylize.gatys.losses import style_layer_weights
from stylize.gatys.weights import LossWeights


def final(records):
    return list(records)[-1]


def test_blend_weights_one_and_zero_equal_the_first_style_alone(random_vgg19, content, style):
    settings = Settings(size=64, steps=3, preview_every=3)
    alone = final(stylize(content, style, settings, network=random_vgg19))
    blended = final(
        stylize(content, [style, 1.0 - style], settings.replace(style_blend=(1.0, 0.0)), network=random_vgg19)
    )
    np.testing.assert_array_equal(alone.image, blended.image)
    mixed = final(
        stylize(content, [style, 1.0 - style], settings.replace(style_blend=(0.5, 0.5)), network=random_vgg19)
    )
    assert not np.array_equal(alone.image, mixed.image)


def test_blend_needs_one_weight_per_style(random_vgg19, content, style):
    with pytest.raises(ValueError, match="style_blend has 3 weights but there are 2 style images"):
        next(stylize(content, [style, style], Settings(size=64, style_blend=(1, 1, 1)), network=random_vgg19))


def test_luminance_only_keeps_the_content_chroma(random_vgg19, content, style):
    result = final(
        stylize(
            content,
            style,
            Settings(size=64, steps=3, colors="luminance", style_weight=1.0, optimizer="adam", init="content"),
            network=random_vgg19,
        )
    )
    chroma = to_ycbcr(result.image / 255.0)[..., 1:]
    content_chroma = to_ycbcr(content)[..., 1:]
    assert np.abs(chroma - content_chroma).max() < 3 / 255  # rounding to uint8 and clipping at the gamut's edge


def test_histogram_option_recolours_the_style_and_runs(random_vgg19, content, style):
    result = final(stylize(content, style, Settings(size=64, steps=2, colors="histogram"), network=random_vgg19))
    assert result.image.shape == (48, 64, 3)


def test_layer_emphasis_shifts_weight_between_shallow_and_deep():
    layers = ["a", "b", "c", "d", "e"]
    assert style_layer_weights(layers, 0.0) == {name: 0.2 for name in layers}
    fine, large = style_layer_weights(layers, -1.0), style_layer_weights(layers, 1.0)
    assert sum(fine.values()) == pytest.approx(1) and sum(large.values()) == pytest.approx(1)
    assert fine["a"] / fine["e"] == pytest.approx(100) and large["e"] / large["a"] == pytest.approx(100)


@pytest.mark.parametrize("emphasis", [-1.0, 1.0])
def test_stroke_size_shifts_the_balance_not_the_strength(random_vgg19, content, style, emphasis):
    def first_style_loss(layer_emphasis):
        settings = Settings(
            size=64, steps=1, layer_emphasis=layer_emphasis, optimizer="adam", init="content"
        )  # the photo's own loss
        return list(stylize(content, style, settings, network=random_vgg19))[-1].losses["style"]

    assert first_style_loss(emphasis) == pytest.approx(first_style_loss(0.0), rel=1e-4)


def test_outside_the_mask_the_picture_stays_the_content(random_vgg19, content, style):
    mask = np.zeros((48, 64), np.float32)
    mask[:, 32:] = 1.0  # style only on the right half
    settings = Settings(size=64, steps=4, style_weight=10.0, preview_every=4)
    result = final(stylize(content, style, settings, network=random_vgg19, mask=mask))
    left_change = np.abs(result.image[:, :28] / 255.0 - content[:, :28]).max()
    right_change = np.abs(result.image[:, 36:] / 255.0 - content[:, 36:]).mean()
    assert left_change < 1 / 255 + 1e-6
    assert right_change > 0.01


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_steering_changes_the_weights_from_the_next_step(random_vgg19, content, style, optimizer):
    new_weights = LossWeights(style=0.0, content=1e3, tv=1.0)
    asked = []

    def steer():
        asked.append(1)
        return new_weights if len(asked) >= 2 else None

    records = list(
        stylize(
            content,
            style,
            Settings(size=64, steps=5, optimizer=optimizer, preview_every=1),
            network=random_vgg19,
            steer=steer,
        )
    )
    assert records[2].losses["style"] > 0  # step 2 ran with the old weights
    assert records[-1].losses["style"] == 0.0  # later steps with the new ones
    assert "Weights changed at step 2" in records[-1].notes[-1]
    assert [r.step for r in records] == list(range(6))  # no step lost to the restart


def test_a_size_that_will_not_fit_is_refused_before_any_work(random_vgg19, content, style, monkeypatch):
    monkeypatch.setitem(costs.MEMORY, "optimize", costs.MemoryCost(0, 10**12))
    with pytest.raises(ValueError, match=r"needs more memory than this machine has free: choose a size of at most"):
        next(stylize(content, style, Settings(size=2048), network=random_vgg19))
