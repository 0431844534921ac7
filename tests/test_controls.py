"""The Optimize tab's control table: Settings -> controls -> Settings round trips, ranges, presets, no Gradio."""

import math
import subprocess
import sys

import pytest

from studio import controls
from studio.controls import (
    BY_NAME,
    CONTROL_NAMES,
    clamped,
    controls_from_settings,
    preset_values,
    settings_from_controls,
    strength_style_log,
)
from stylize.core.settings import (
    COLORS,
    INITS,
    LAYER_EMPHASIS_RANGE,
    OPTIMIZERS,
    PRESETS,
    SEED_RANGE,
    SIZE_RANGE,
    STEPS_RANGE,
    STRENGTH_RANGE,
    STYLE_SCALE_RANGE,
    preset,
)
from stylize.gatys.weights import loss_weights


def test_the_table_does_not_need_gradio():
    code = "import sys, studio.controls; print('gradio' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    "settings",
    [
        *(preset(name) for name in PRESETS),
        preset(
            "balanced",
            strength=8.0,
            colors="histogram",
            layer_emphasis=-0.5,
            style_scale=1.5,
            seed=12,
            start_size=None,
            coarse_steps=0,
            init="palette",
            style_blend=(0.25, 0.75),
        ),
        preset("quick", style_weight=3.0, content_weight=0.02, tv_weight=0.0, optimizer="adam", precision="float32"),
        preset("balanced", seconds=25.0),
        preset("balanced").as_run([8, 0, 17]),  # a timed run's result: the steps it took at each scale
        preset("balanced", size=1024).as_run([8, 0, 17], (3,) * 6).replace(tile_detail=0.25),  # a poster's
    ],
)
def test_settings_survive_a_trip_through_the_controls(random_vgg16, settings):
    values = controls_from_settings(settings, random_vgg16)
    assert tuple(values) == CONTROL_NAMES
    back = settings_from_controls(values, two_styles=bool(settings.style_blend))
    weights, returned = loss_weights(settings, random_vgg16), loss_weights(back, random_vgg16)
    # The sliders hold log10 of each weight; a weight of 0 sits at the slider's floor.
    assert returned.style == pytest.approx(weights.style, rel=1e-9)
    assert returned.content == pytest.approx(weights.content, rel=1e-9)
    assert returned.tv == pytest.approx(max(weights.tv, 1e-3), rel=1e-9)
    blend = back.style_blend
    assert len(blend) == len(settings.style_blend)
    if blend:
        assert blend[1] / sum(blend) == pytest.approx(settings.style_blend[1] / sum(settings.style_blend))
    unweighted = dict(style_weight=None, content_weight=None, tv_weight=None, style_blend=())
    assert back.replace(**unweighted) == settings.replace(**unweighted)


def test_the_blend_only_counts_with_a_second_painting(random_vgg16):
    values = controls_from_settings(preset("balanced"), random_vgg16) | {"blend": 0.8}
    assert settings_from_controls(values, two_styles=False).style_blend == ()
    assert settings_from_controls(values, two_styles=True).style_blend == pytest.approx((0.2, 0.8))


def test_ranges_come_from_settings_and_defaults_sit_inside_them(random_vgg16):
    assert BY_NAME["strength"].bounds == STRENGTH_RANGE
    assert BY_NAME["steps"].bounds == STEPS_RANGE
    assert BY_NAME["style_scale"].bounds == STYLE_SCALE_RANGE
    assert BY_NAME["layer_emphasis"].bounds == LAYER_EMPHASIS_RANGE
    assert BY_NAME["seed"].bounds == SEED_RANGE
    assert BY_NAME["optimizer"].choices == OPTIMIZERS and BY_NAME["init"].choices == INITS
    assert [value for _, value in BY_NAME["colors"].choices] == list(COLORS)
    assert SIZE_RANGE[0] <= controls.SIZE_SLIDER[0] < controls.SIZE_SLIDER[1] <= SIZE_RANGE[1]
    for name in PRESETS:
        values = controls_from_settings(preset(name), random_vgg16)
        assert clamped(values) == (values, []), name


def test_restored_values_are_moved_into_the_sliders_with_a_note(random_vgg16):
    values = controls_from_settings(preset("seed", size=4096, start_size=2000, style_weight=1e9), random_vgg16)
    moved, notes = clamped(values)
    assert (moved["size"], moved["start_size"], moved["style_log"]) == (4096, 1024, 5)  # a poster's size fits
    assert notes == ["style log 9 → 5", "start size 2000 → 1024"]
    assert {name: value for name, value in moved.items() if name not in ("size", "start_size", "style_log")} == {
        name: value for name, value in values.items() if name not in ("size", "start_size", "style_log")
    }


def chosen_preset(name: str, strength: float, network) -> dict:
    """The controls after choosing a preset on a page whose Strength is strength."""
    values = controls_from_settings(preset("balanced"), network) | {"preset_name": name, "strength": strength}
    return values | dict(zip(controls.PRESET_CONTROLS, preset_values(name, network)))


def test_choosing_a_preset_moves_its_controls_and_weights(random_vgg16):
    seed = chosen_preset("seed", 5.0, random_vgg16)
    assert (seed["steps"], seed["optimizer"], seed["init"], seed["start_size"], seed["normalize"]) == (
        200,
        "adam",
        "content",
        0,
        False,
    )
    assert seed["style_from_strength"] is True  # the style weight goes back to Strength's, resolved on the server
    seed_weights = loss_weights(settings_from_controls(seed, two_styles=False), random_vgg16)
    assert (seed_weights.style, seed["content_log"], seed["tv_log"]) == pytest.approx((0.1, 3.0, 0.0))
    balanced = chosen_preset("balanced", 7.5, random_vgg16)
    assert balanced["optimizer"] == "lbfgs" and balanced["normalize"] is True
    best = chosen_preset("best", 7.5, random_vgg16)  # from a page on balanced, at block5_conv2
    assert best["content_layer"] == "block4_conv2"  # and Strength's style weight follows it (2.5x)
    assert loss_weights(settings_from_controls(best, two_styles=False), random_vgg16).style == pytest.approx(250)
    assert chosen_preset("balanced", 7.5, random_vgg16)["content_layer"] == "block5_conv2"
    # Strength 7.5: ten times the normalised default, 10
    assert loss_weights(settings_from_controls(balanced, two_styles=False), random_vgg16).style == pytest.approx(100)


def test_the_style_weight_is_strengths_unless_set_by_hand(random_vgg16):
    values = controls_from_settings(preset("balanced"), random_vgg16)
    assert values["style_from_strength"] is True
    weights = {
        strength: loss_weights(settings_from_controls(values | {"strength": strength}, two_styles=False), random_vgg16)
        for strength in (0.0, 10.0)
    }
    assert weights[10.0].style / weights[0.0].style == pytest.approx(1e4)
    assert (weights[10.0].content, weights[10.0].tv) == (weights[0.0].content, weights[0.0].tv)
    by_hand = values | {"strength": 10.0, "style_from_strength": False, "style_log": -1.0}
    assert loss_weights(settings_from_controls(by_hand, two_styles=False), random_vgg16).style == pytest.approx(0.1)
    restored = controls_from_settings(preset("balanced", style_weight=0.1), random_vgg16)
    assert restored["style_from_strength"] is False and restored["style_log"] == pytest.approx(-1.0)


def test_strength_moves_the_style_weight_slider(random_vgg16):
    assert strength_style_log(5.0, "balanced", True, random_vgg16) == pytest.approx(1.0)
    assert strength_style_log(2.5, "balanced", True, random_vgg16) == pytest.approx(0.0)
    assert strength_style_log(5.0, "seed", False, random_vgg16) == pytest.approx(math.log10(0.1))
    # At the content layer the run uses: best's by default, block5_conv2's when chosen on best's page
    assert strength_style_log(5.0, "best", True, random_vgg16) == pytest.approx(math.log10(25))
    assert strength_style_log(5.0, "best", True, random_vgg16, "block5_conv2") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="strength is 11 but must be from 0 to 10"):
        strength_style_log(11.0, "balanced", True, random_vgg16)


def test_the_weight_sliders_are_log10_of_the_weights():
    weights = controls.weights_from_sliders(1.0, 3.0, -1.0)
    assert (weights.style, weights.content, weights.tv) == pytest.approx((10.0, 1000.0, 0.1))


def test_time_and_exact_steps_exclude_each_other_and_seed_is_always_exact(random_vgg16):
    values = controls_from_settings(preset("balanced"), random_vgg16)
    assert (values["seconds"], values["exact_steps"], values["scale_steps"]) == (60.0, False, "")
    timed = settings_from_controls(values | {"seconds": 30.0, "steps": 9}, two_styles=False)
    assert timed.seconds == 30.0 and timed.scale_steps == ()
    exact = settings_from_controls(values | {"exact_steps": True, "steps": 9}, two_styles=False)
    assert exact.seconds is None and exact.schedule()[-1] == (512, 9)
    seed = settings_from_controls(
        controls_from_settings(preset("seed"), random_vgg16) | {"exact_steps": False}, two_styles=False
    )
    assert seed == preset("seed").replace(
        style_weight=seed.style_weight, content_weight=seed.content_weight, tv_weight=seed.tv_weight
    )
    poster = controls_from_settings(preset("balanced", size=1024).as_run([8, 0, 17], (3,) * 6), random_vgg16)
    assert poster["tile_detail"] == ""  # chosen by the run
    replayed = settings_from_controls(poster | {"tile_detail": "0.5"}, two_styles=False)
    assert replayed.tile_detail == 0.5 and replayed.tile_steps == (3,) * 6
    assert settings_from_controls(poster | {"tile_detail": "0.5", "exact_steps": False}, False).tile_detail is None
    with pytest.raises(ValueError, match="fine detail share is 'half' but must be a number from 0 to 1"):
        settings_from_controls(poster | {"tile_detail": "half"}, two_styles=False)
    with pytest.raises(ValueError, match="fine detail share is 24 characters but must be at most 20"):
        settings_from_controls(poster | {"tile_detail": "0.0000000000000000000001"}, two_styles=False)
    with pytest.raises(ValueError, match="tile_detail is 2 but must be from 0 to 1"):
        settings_from_controls(poster | {"tile_detail": "2"}, two_styles=False)
    info = BY_NAME["preset_name"].info
    assert "quick 15 s, balanced 60 s; best the steps balanced's minute takes on the project's 2-core CPU" in info
    assert "at the pace this server has measured, comparing content at block4_conv2; above 768 px" in info
    assert "best adds time for 8 L-BFGS steps on every tile at that pace" in info
