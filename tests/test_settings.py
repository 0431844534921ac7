"""Settings validate themselves and say what is wrong."""

import pytest

from stylize import PRESETS, Settings, preset


@pytest.mark.parametrize("field, value, message", [
    ("size", 10, "size is 10 but must be from 64 to 4096"),
    ("size", 100.5, "size is 100.5 but must be a whole number from 64 to 4096"),
    ("steps", 0, "steps is 0 but must be from 1 to 5000"),
    ("style_weight", -1.0, "style_weight is -1 but must be from 0 to 1e+12"),
    ("learning_rate", float("nan"), "learning_rate is nan but must be from"),
    ("optimizer", "sgd", "optimizer is 'sgd' but must be one of: adam, lbfgs"),
    ("network", "resnet", "network is 'resnet' but must be one of: auto, vgg19, vgg16-hed"),
    ("steps", "ten", "steps is 'ten' but must be a whole number"),
])
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
    assert preset("best").total_steps > preset("quick").total_steps
