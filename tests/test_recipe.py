"""Recipes: Settings and run details survive a trip through a PNG, and bad or missing ones are named clearly."""

import dataclasses
import json

import numpy as np
import pytest

from stylize.core.images import png_bytes, read_png_text, save_png
from stylize.core.recipe import NO_RECIPE, RECIPE_KEY, recipe_text, settings_from_png
from stylize.core.settings import Settings, preset

PIXELS = np.full((16, 16, 3), 0.5, np.float32)
EXTRA = {"network_label": "VGG19 (ImageNet)", "seed": 7, "styles": ["Swirls – café"], "style_weights": [0.6, 0.4]}


def test_round_trip_gives_equal_settings_and_extras(tmp_path):
    settings = preset("balanced", size=384, style_weight=2.5e4, seed=7, style_blend=(0.7, 0.3), colors="luminance")
    path = tmp_path / "result.png"
    save_png(path, PIXELS, text=recipe_text(settings, EXTRA))
    assert settings_from_png(path) == (settings, EXTRA)
    assert settings_from_png(path.read_bytes()) == (settings, EXTRA)


def test_recipe_holds_every_field_and_says_who_made_it():
    text = recipe_text(Settings(), {"seed": 3})
    recipe = json.loads(text[RECIPE_KEY])
    assert recipe["software"] == "stylize" and text["Software"] == "stylize"
    assert recipe["format"] == 3
    everything_but_the_local_path = {k: v for k, v in dataclasses.asdict(Settings()).items() if k != "weights_path"}
    assert recipe["settings"] == json.loads(json.dumps(everything_but_the_local_path))
    assert "weights_path" not in recipe_text(Settings(weights_path="/home/me/vgg19.h5"))[RECIPE_KEY]
    assert recipe["extra"] == {"seed": 3}


def test_plain_png_has_no_recipe():
    with pytest.raises(ValueError, match=f"^{NO_RECIPE}$"):
        settings_from_png(png_bytes(PIXELS))
    with pytest.raises(ValueError, match=f"^{NO_RECIPE}$"):
        settings_from_png(png_bytes(PIXELS, text={"Comment": "drawn by hand"}))


def tampered(change) -> bytes:
    text = recipe_text(Settings(), {})
    recipe = json.loads(text[RECIPE_KEY])
    change(recipe)
    return png_bytes(PIXELS, text={RECIPE_KEY: json.dumps(recipe)})


def test_tampered_value_gives_settings_own_message():
    png = tampered(lambda recipe: recipe["settings"].update(size=10))
    with pytest.raises(ValueError, match="^this PNG's settings are invalid: size is 10 but must be from 64 to 4096$"):
        settings_from_png(png)


def test_unknown_keys_from_newer_versions_are_ignored():
    def newer(recipe):
        recipe["format"] = 2
        recipe["settings"].update(hologram_depth=3, steps=42)
        recipe["palette"] = ["blue"]

    settings, extra = settings_from_png(tampered(newer))
    assert settings == Settings(steps=42) and extra == {}


def test_damaged_recipes_and_non_images_are_named():
    with pytest.raises(ValueError, match=r"^this PNG's settings are damaged \(not valid JSON"):
        settings_from_png(png_bytes(PIXELS, text={RECIPE_KEY: "{size: 10"}))
    with pytest.raises(ValueError, match=r"^this PNG's settings are damaged \(no 'settings' object"):
        settings_from_png(png_bytes(PIXELS, text={RECIPE_KEY: "[1, 2]"}))
    with pytest.raises(ValueError, match="^this file is not an image"):
        settings_from_png(b"not a picture at all")
    whole = png_bytes(PIXELS, text=recipe_text(Settings(), {}))
    with pytest.raises(ValueError, match=r"^this (PNG|file) could not be read \(.*\): the file may be truncated"):
        settings_from_png(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="^no such file '/nowhere/result.png'$"):
        settings_from_png("/nowhere/result.png")


def test_extras_must_be_json():
    with pytest.raises(ValueError, match=r"^extra\['style'\] is array\(\[1\]\) but must be a JSON value"):
        recipe_text(Settings(), {"style": np.array([1])})


def test_recipe_text_is_what_png_bytes_writes():
    text = recipe_text(Settings(), {"styles": ["mosaic"]})
    assert read_png_text(png_bytes(PIXELS, text=text)) == text


def test_recipes_from_before_normalisation_keep_the_raw_formula():
    def format_1(recipe):
        recipe["format"] = 1
        for field in ("normalize", "strength"):
            del recipe["settings"][field]

    settings, _ = settings_from_png(tampered(format_1))
    assert settings.normalize is False and settings.strength == 5.0
    assert settings_from_png(png_bytes(PIXELS, recipe_text(Settings())))[0].normalize is True
