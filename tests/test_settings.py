"""Settings validate themselves and say what is wrong."""

import re

import pytest

from stylize import PRESETS, Settings, preset
from stylize.core import paces
from stylize.core.settings import BEST_TILE_STEPS, FIRST_TILE_STEP_EXTRA, preset_seconds, tile_megapixels


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("size", 10, "size is 10 but must be from 64 to 4096"),
        ("size", 100.5, "size is 100.5 but must be a whole number from 64 to 4096"),
        ("steps", 0, "steps is 0 but must be from 1 to 5000"),
        ("style_weight", -1.0, "style_weight is -1 but must be from 0 to 1e+12"),
        ("learning_rate", float("nan"), "learning_rate is nan but must be from"),
        ("optimizer", "sgd", "optimizer is 'sgd' but must be one of: adam, lbfgs"),
        ("network", "resnet", "network is 'resnet' but must be one of: auto, vgg19, vgg16-hed"),
        ("steps", "ten", "steps is 'ten' but must be a whole number"),
        ("content_layer", "conv4_2", "content_layer is 'conv4_2' but must be one of: block5_conv2, block4_conv2"),
    ],
)
def test_bad_values_name_the_value_and_the_range(field, value, message):
    with pytest.raises(ValueError, match="^" + message.replace("+", r"\+").replace("(", r"\(")):
        Settings(**{field: value})


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match="preset is 'fastest' but must be one of: seed, quick, balanced, best"):
        preset("fastest")


def test_seed_preset_is_the_reference_program():
    seed = preset("seed")
    assert (seed.steps, seed.learning_rate, seed.optimizer, seed.size) == (200, 0.02, "adam", 512)
    assert seed.schedule() == [(512, 200)]
    assert seed.precision == "float32" and not seed.antialias


def test_presets_override_and_accept_overrides():
    assert set(PRESETS) == {"seed", "quick", "balanced", "best"}
    assert preset("quick", size=256).size == 256
    assert [preset(name).seconds for name in ("seed", "quick", "balanced", "best")] == [None, 15.0, 60.0, 60.0]


def test_best_paints_the_whole_picture_in_balanceds_time_and_gives_a_posters_tiles_steps_at_this_machines_pace(
    monkeypatch,
):
    # More full-size steps faded the photo (bench/README.md, "best"): best's extra time is its tiles'. Its whole
    # picture compares content at Gatys et al.'s layer, which judged better on two measures of three.
    monkeypatch.setattr(paces, "_tile_step", {})
    assert preset("best", size=768) == preset("balanced", size=768, content_layer="block4_conv2")
    assert preset("balanced").content_layer == "block5_conv2"
    best, balanced = preset("best", size=2048), preset("balanced", size=2048)
    assert best.replace(seconds=balanced.seconds, content_layer=balanced.content_layer) == balanced
    tiles = tile_megapixels((1536, 2048), 512)  # 20 tiles of 512 px
    assert tiles == pytest.approx(20 * 512 * 512 / 1e6)
    extra = (BEST_TILE_STEPS + FIRST_TILE_STEP_EXTRA) * paces.PROJECT_TILE_STEP * tiles  # a tile's first costs two
    assert best.seconds - balanced.seconds == pytest.approx(extra, abs=1.0)
    assert preset_seconds("best", 4096) <= 600  # the page's time slider's most, at the project machine's pace
    # Measured four times slower in float32 (one AVX2 core), best's whole picture and tiles get four times the time
    # there (balanced's steps, 8 a tile), not in the precision that wasn't measured.
    paces.remember_tile_step(4 * paces.PROJECT_TILE_STEP, "float32")
    slow = preset("best", size=2048, precision="float32")
    assert slow.seconds - balanced.seconds == pytest.approx(3 * 60 + 4 * extra, abs=1.0)
    assert preset("best", size=768, precision="float32").seconds == 240
    assert preset("best", size=2048).seconds == best.seconds
    assert preset("balanced", size=2048, precision="float32").seconds == balanced.seconds  # no tile steps to pace


def test_exact_steps_override_a_presets_time_budget():
    assert preset("balanced", steps=40).seconds is None and preset("balanced", steps=40).total_steps == 80
    assert preset("quick", scale_steps=[7]).schedule() == [(512, 7)]
    assert preset("balanced", steps=40, seconds=30.0).seconds == 30.0  # both given: the time, steps at most
    assert preset("balanced", size=256).seconds == 60.0


def test_a_run_as_its_steps_reproduces_it():
    ran = preset("balanced").as_run([5, 3])  # stopped at the second scale: the full size took none
    assert ran.seconds is None and ran.scale_steps == (5, 3, 0) and ran.total_steps == 8
    assert ran.schedule() == [(256, 5), (362, 3), (512, 0)]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"scale_steps": (1, 2)}, "scale_steps has 2 counts but these settings have 3 scales (256, 362, 512 px)"),
        ({"scale_steps": (0, 0, 0)}, "scale_steps are all 0 but at least one step must run"),
        ({"scale_steps": (1, -2, 3)}, "scale_steps count is -2 but must be from 0 to 5000"),
        ({"scale_steps": "7"}, "scale_steps is '7' but must be a list of step counts, one per scale"),
        ({"scale_steps": (1, 2, 3), "seconds": 30.0}, "scale_steps and seconds are both set"),
        ({"seconds": 2.0}, "seconds is 2 but must be from 5 to 3600"),
        ({"seconds": "60"}, "seconds is '60' but must be a number from 5 to 3600"),
    ],
)
def test_bad_step_counts_and_budgets_are_explained(fields, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Settings(**fields)


def test_steps_text_names_each_scales_steps_and_a_posters_tile_steps():
    exact = Settings(size=512, scale_steps=(8, 4, 17))
    assert exact.steps_text() == "8 + 4 + 17 steps at 256, 362, 512 px"
    poster = Settings(size=1024, scale_steps=(8, 4, 17), tile_steps=(5, 5, 6, 5, 5, 5))
    assert poster.steps_text() == "8 + 4 + 17 steps at 256, 362, 512 px + 31 on 6 tiles"
