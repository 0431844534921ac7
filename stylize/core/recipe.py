"""Every result remembers how it was made: the Settings and run details as JSON in a PNG text chunk, and back."""

from __future__ import annotations

import dataclasses
import json
import os

from PIL import UnidentifiedImageError

from .images import read_png_text
from .settings import SIZE_RANGE, Settings

RECIPE_KEY = "stylize"  # the PNG text chunk holding the JSON recipe
FORMAT_VERSION = 3  # bump when the JSON's layout changes (2: normalize, strength; 3: seconds, scale_steps);
# readers ignore unknown fields, and a recipe without seconds ran exact steps
NO_RECIPE = "this PNG was not made by the studio: it has no settings in its metadata"
MAX_PIXELS = SIZE_RANGE[1] ** 2  # no result is larger; reading a PNG's text decodes it, so bigger ones are refused
UNTRUSTED = ("weights_path",)  # a file path chosen by the PNG's author is never opened on this machine


def recipe_text(settings: Settings, extra: dict | None = None) -> dict[str, str]:
    """PNG text chunks for images.png_bytes(image, text=...): the recipe JSON, plus PNG's standard Software key."""
    extra = dict(extra or {})
    for key, value in extra.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise ValueError(
                f"extra[{key!r}] is {value!r} but must be a JSON value: text, number, bool, None, "
                "or a list or dict of them"
            ) from None
    # Extras sit beside the settings, not among them, so an extra named like a field (seed) can't shadow it.
    # A local weights path means nothing on another machine and would reveal the author's folders.
    fields = {name: value for name, value in dataclasses.asdict(settings).items() if name != "weights_path"}
    recipe = {"format": FORMAT_VERSION, "software": "stylize", "settings": fields, "extra": extra}
    return {RECIPE_KEY: json.dumps(recipe, allow_nan=False, ensure_ascii=False), "Software": "stylize"}


def settings_from_png(source: str | os.PathLike | bytes) -> tuple[Settings, dict]:
    """The Settings and the extras stored by recipe_text; ValueError when there are none or they are invalid."""
    try:
        text = read_png_text(source, MAX_PIXELS)
    except FileNotFoundError:
        raise ValueError(f"no such file {str(source)!r}") from None
    except UnidentifiedImageError:
        raise ValueError("this file is not an image: choose a PNG saved by the studio") from None
    except (OSError, SyntaxError) as error:  # Pillow reports broken chunks as SyntaxError
        raise ValueError(f"this PNG could not be read ({error}): the file may be truncated or damaged") from None
    if RECIPE_KEY not in text:
        raise ValueError(NO_RECIPE)
    try:
        recipe = json.loads(text[RECIPE_KEY])
    except json.JSONDecodeError as error:
        raise ValueError(f"this PNG's settings are damaged (not valid JSON: {error.msg})") from None
    except RecursionError:  # [[[[...]]]] thousands deep
        raise ValueError("this PNG's settings are damaged (JSON nested too deeply)") from None
    if not isinstance(recipe, dict) or not isinstance(recipe.get("settings"), dict):
        raise ValueError("this PNG's settings are damaged (no 'settings' object in its recipe)")
    # A newer studio may have added fields this one doesn't know: drop them; missing ones keep their defaults.
    known = {field.name for field in dataclasses.fields(Settings)}
    fields = {name: value for name, value in recipe["settings"].items() if name in known and name not in UNTRUSTED}
    # Recipes from before normalised loss terms (format 1) meant the raw formula: keep reproducing their pictures.
    fields.setdefault("normalize", False)
    try:
        settings = Settings(**fields)
    except (ValueError, TypeError) as error:
        raise ValueError(f"this PNG's settings are invalid: {error}") from None
    extra = recipe.get("extra")
    return settings, extra if isinstance(extra, dict) else {}
