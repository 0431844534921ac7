"""The Optimize tab's controls in one table: each one's widget, range (from settings.py) and mapping to Settings."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stylize.core.precision import resolve_precision
from stylize.core.settings import (
    BEST_TILE_STEPS,
    DEFAULT_PRESET,
    DETAIL_CHOICE_SECONDS,
    DETAIL_SECONDS_PER_MEGAPIXEL,
    INITS,
    LAYER_EMPHASIS_RANGE,
    MACHINE_PACED,
    OPTIMIZERS,
    POSTER_FROM,
    PRECISIONS,
    PRESETS,
    SECONDS_RANGE,
    SEED_RANGE,
    STEPS_RANGE,
    STRENGTH_RANGE,
    STYLE_SCALE_RANGE,
    Settings,
    preset,
)
from stylize.gatys.networks import FeatureNetwork
from stylize.gatys.weights import LossWeights, loss_weights

from .status import format_seconds

# The CPU-friendly part of Settings' size range; the command line takes the rest.
SIZE_SLIDER = (128, 4096)  # above 768 px a poster: painted whole at 512 px, then in tiles (stylize/poster/)
MAX_TILE_STEPS_TEXT = 1200  # a 4096 px square has 81 tiles: up to 4 digits and a comma each, with room
MAX_SHARE_TEXT = 20  # the fine detail share box's limit: a share needs a handful of characters
MAX_SCALE_STEPS_TEXT = 200  # the steps-per-scale box's limit: no run has more scales than fit (16 to 4096 px: 17)
TIME_SLIDER = (SECONDS_RANGE[0], 600.0)  # a server's own limit may be lower (hosting.MAX_SECONDS)
# The presets are times on whatever machine runs them: true here by construction (stylize/pace.py plans to fit).
PRESET_INFO = (
    "time from the click to the last picture, on this server: "
    + ", ".join(
        f"{name} {format_seconds(fields['seconds'])}"
        for name, fields in PRESETS.items()
        if fields.get("seconds") and name not in MACHINE_PACED
    )
    + "; best the steps balanced's minute takes on the project's 2-core CPU, at the pace this server has measured,"
    + " comparing content at block4_conv2"
    + f"; above {POSTER_FROM} px each adds its tiles' time ({DETAIL_CHOICE_SECONDS:g} s and "
    + f"{DETAIL_SECONDS_PER_MEGAPIXEL:g} s a megapixel; best adds time for {BEST_TILE_STEPS} L-BFGS steps on every "
    + "tile at that pace)"
    + f"; seed = the original program ({PRESETS['seed']['steps']} steps, however long they take)"
)


@dataclass(frozen=True)
class Control:
    """One control: what the page shows (widget, label, range) and how its value maps onto Settings and back."""

    name: str  # the run handler's parameter and the API's name for it
    widget: str  # "slider", "radio", "dropdown", "number", "checkbox" or "textbox"
    label: str
    to_settings: Callable[[Any], dict]  # the control's value -> the Settings fields it sets
    from_settings: Callable[[Settings, LossWeights], Any]  # Settings (and the weights they mean) -> the value
    bounds: tuple[float, float] | None = None  # sliders and numbers; a restored value is moved into them
    step: float | None = None
    choices: tuple = ()  # radios and dropdowns: values, or (label, value) pairs
    info: str = ""
    elem_id: str | None = None


def field(name: str, widget: str, label: str, convert: Callable[[Any], Any] = lambda value: value, *args, **named):
    """A control that sets the Settings field of its own name (convert: the page's value -> the field's)."""
    return Control(
        name, widget, label, lambda value: {name: convert(value)}, lambda s, w: getattr(s, name), *args, **named
    )


def weight_control(term: str, label: str, bounds: tuple[float, float], floor: float, info: str = "") -> Control:
    """A loss term's weight as a log10 slider (weights span ten decades); floor keeps a weight of 0 on it."""
    return Control(
        f"{term}_log",
        "slider",
        label,
        lambda value: {f"{term}_weight": 10.0**value},
        lambda settings, weights: math.log10(max(getattr(weights, term), floor)),
        bounds,
        0.1,
        info=info,
        elem_id=f"{term}-weight",
    )


def blend_of(settings: Settings) -> float:
    """The second painting's share of a two-painting blend (0.5, the middle, for one painting)."""
    blend = settings.style_blend
    return blend[1] / sum(blend) if len(blend) == 2 else 0.5


CONTROLS: tuple[Control, ...] = (
    # The base the other controls override (settings_from_controls). A recipe doesn't store its preset: seed's
    # is the only one that shrinks without antialiasing, and every field the others set has a control of its own.
    Control(
        "preset_name",
        "dropdown",
        "Preset",
        lambda value: {},
        lambda settings, weights: "seed" if not settings.antialias else DEFAULT_PRESET,
        choices=tuple(PRESETS),
        info=PRESET_INFO,
    ),
    field(
        "strength",
        "slider",
        "Style strength",
        float,
        STRENGTH_RANGE,
        0.5,
        info="0 the photo · 10 the painting; can be moved during a run",
        elem_id="strength",
    ),
    # On (the default), the server sets the style weight from Strength (weights.loss_weights); the style weight
    # slider then shows it as it was when the page or a restored result last set it, and counts only when off.
    Control(
        "style_from_strength",
        "checkbox",
        "Style weight from Strength",
        lambda value: {},
        lambda settings, weights: settings.style_weight is None,
        info="untick, or move the style weight, to set it by hand",
        elem_id="style-from-strength",
    ),
    weight_control("style", "Style weight (log10)", (-5, 5), 1e-5, info="counts when not from Strength"),
    weight_control("content", "Content weight (log10)", (-3, 8), 1e-3),
    weight_control("tv", "Smoothness (TV weight, log10)", (-3, 4), 1e-3),
    field("steps", "slider", "Steps at full size", int, STEPS_RANGE, 1, info="with exact steps"),
    field("size", "slider", "Output size (longer side, px)", int, SIZE_SLIDER, 16),
    field("optimizer", "radio", "Optimizer", choices=OPTIMIZERS),
    field(
        "precision", "radio", "Precision", choices=PRECISIONS, info=f"auto: {resolve_precision('auto')} on this server"
    ),
    Control(
        "start_size",
        "slider",
        "Coarse-to-fine start size (0: off)",
        lambda value: {"start_size": int(value) or None},
        lambda settings, weights: settings.start_size or 0,
        (0, 1024),
        16,
    ),
    field("coarse_steps", "slider", "Steps per coarse scale (the most, with a time budget)", int, (0, 200), 1),
    field("init", "radio", "Start from", choices=INITS),
    field("seed", "number", "Seed (for noise)", int, SEED_RANGE),
    field("style_scale", "slider", "Style scale (bigger strokes →)", float, STYLE_SCALE_RANGE, 0.05),
    field(
        "colors",
        "radio",
        "Colours",
        choices=(
            ("Style's colours", "style"),
            ("Keep the photo's colours", "luminance"),
            ("Recolour the style to the photo", "histogram"),
        ),
    ),
    field(
        "layer_emphasis", "slider", "Stroke size (← fine texture · large shapes →)", float, LAYER_EMPHASIS_RANGE, 0.1
    ),
    Control(
        "blend",
        "slider",
        "Blend (0: first style, 1: second)",
        lambda value: {"style_blend": (1.0 - value, value)},
        lambda settings, weights: blend_of(settings),
        (0, 1),
        0.05,
    ),
    field(
        "normalize",
        "checkbox",
        "Normalised loss terms",
        bool,
        info="off: the raw formula of the seed and of older results",
    ),
    # Added last, so API clients that pass the controls above by position keep working.
    Control(
        "seconds",
        "slider",
        "Time (seconds)",
        lambda value: {"seconds": float(value)},
        lambda settings, weights: settings.seconds or PRESETS[DEFAULT_PRESET]["seconds"],
        TIME_SLIDER,
        5,
        info="from the click to the last picture: the run plans its steps to fit",
        elem_id="seconds",
    ),
    Control(
        "exact_steps",
        "checkbox",
        "Exact steps instead of time",
        lambda value: {},
        lambda settings, weights: settings.seconds is None,
        info="runs the steps below (or a restored result's), however long",
        elem_id="exact-steps",
    ),
    Control(
        "scale_steps",
        "textbox",
        "Steps per scale, smallest first (exact steps)",
        lambda value: {"scale_steps": parse_scale_steps(value)},
        lambda settings, weights: ", ".join(map(str, settings.scale_steps)),
        info="a restored result's, which replay it exactly; empty: from the sliders",
        elem_id="scale-steps",
        bounds=(0, MAX_SCALE_STEPS_TEXT),
    ),
    Control(
        "tile_steps",
        "textbox",
        "Steps per tile, posters (exact steps)",
        lambda value: {"tile_steps": parse_steps(value, "steps per tile", MAX_TILE_STEPS_TEXT)},
        lambda settings, weights: ", ".join(map(str, settings.tile_steps)),
        info="a restored poster's, which replay it exactly; empty: the run decides",
        elem_id="tile-steps",
        bounds=(0, MAX_TILE_STEPS_TEXT),
    ),
    Control(
        "tile_detail",
        "textbox",
        "Fine detail share, posters (exact steps)",
        lambda value: {"tile_detail": parse_share(value)},
        lambda settings, weights: "" if settings.tile_detail is None else f"{settings.tile_detail:g}",
        info="a restored poster's share of the instant network's detail (0-1), which replays it; empty: the run "
        "chooses the share whose texture is nearest the painting's",
        elem_id="tile-detail",
        bounds=(0, MAX_SHARE_TEXT),
    ),
    field(
        "content_layer",
        "radio",
        "Content layer",
        choices=(
            ("block5_conv2: the photo's shapes", "block5_conv2"),
            ("block4_conv2: its edges too (best's)", "block4_conv2"),
        ),
        info="where the content loss compares the photo; Strength's style weight follows it",
        elem_id="content-layer",
    ),
)
CONTROL_NAMES = tuple(control.name for control in CONTROLS)  # the order the run handler and the API take them in
BY_NAME = {control.name: control for control in CONTROLS}
# What choosing a preset moves: the fields presets set, and the weights (seed's are raw, the others normalised;
# the style weight goes back to Strength's).
PRESET_CONTROLS = (
    "seconds",
    "exact_steps",
    "scale_steps",
    "tile_steps",
    "tile_detail",
    "steps",
    "optimizer",
    "precision",
    "start_size",
    "coarse_steps",
    "init",
    "content_layer",
    "style_from_strength",
    "content_log",
    "tv_log",
    "normalize",
)


def settings_from_controls(values: Mapping[str, Any], two_styles: bool) -> Settings:
    """The Settings the page's controls describe (ValueError, from Settings, for a value out of range)."""
    fields = {}
    for control in CONTROLS:
        fields.update(control.to_settings(values[control.name]))
    if not two_styles:  # the blend only means something with a second painting
        fields["style_blend"] = ()
    if values["style_from_strength"]:  # left to the server, which scales the default by Strength
        fields["style_weight"] = None
    if values["exact_steps"] or values["preset_name"] == "seed":  # seed is the reference program: its steps
        fields["seconds"] = None
    else:
        fields["scale_steps"] = fields["tile_steps"] = ()
        fields["tile_detail"] = None
    return preset(values["preset_name"], **fields)


def parse_scale_steps(text: str | None) -> tuple[int, ...]:
    """'8, 4, 17' -> (8, 4, 17); empty -> (); ValueError saying what to write for anything else."""
    return parse_steps(text, "steps per scale", MAX_SCALE_STEPS_TEXT)


def parse_steps(text: str | None, what: str, longest: int) -> tuple[int, ...]:
    """Whole numbers separated by commas, at most longest characters: a tuple (empty for no text)."""
    text = str(text or "")
    if len(text) > longest:
        raise ValueError(
            f"{what} are {len(text)} characters but must be at most {longest}: whole numbers like 8, 4, 17"
        )
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        raise ValueError(
            f"{what} are {text[:40]!r} but must be whole numbers separated by commas, like 8, 4, 17 (or empty)"
        ) from None


def parse_share(text: str | None) -> float | None:
    """'0.5' -> 0.5; empty -> None (the run chooses); ValueError saying what to write for anything else."""
    text = str(text or "").strip()
    if not text:
        return None
    if len(text) > MAX_SHARE_TEXT:  # cut short, it would read as another number (the box's own limit is the page's)
        raise ValueError(f"fine detail share is {len(text)} characters but must be at most {MAX_SHARE_TEXT}: like 0.5")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"fine detail share is {text!r} but must be a number from 0 to 1 (or empty)") from None


def controls_from_settings(settings: Settings, network: FeatureNetwork) -> dict[str, Any]:
    """The inverse: each control's value that reproduces settings (weights as the network gives them)."""
    weights = loss_weights(settings, network)
    return {control.name: control.from_settings(settings, weights) for control in CONTROLS}


def clamped(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Values moved into their controls' ranges (recipes from the command line go further), and a note for each."""
    values, notes = dict(values), []
    for control in CONTROLS:
        if control.widget == "slider":
            low, high = control.bounds
            value = values[control.name]
            values[control.name] = min(max(value, low), high)
            if values[control.name] != value:
                notes.append(f"{control.name.replace('_', ' ')} {value:.4g} → {values[control.name]:.4g}")
    return values, notes


def weights_from_sliders(style_log: float, content_log: float, tv_log: float) -> LossWeights:
    """The loss weights the three weight sliders show (moving one steers a run)."""
    fields = {}
    for name, value in (("style_log", style_log), ("content_log", content_log), ("tv_log", tv_log)):
        fields.update(BY_NAME[name].to_settings(value))
    return LossWeights(fields["style_weight"], fields["content_weight"], fields["tv_weight"])


def preset_values(name: str, network: FeatureNetwork) -> list:
    """The PRESET_CONTROLS' values for a preset, in that order."""
    values = controls_from_settings(preset(name), network)
    return [values[control] for control in PRESET_CONTROLS]


def strength_style_log(
    strength: float, preset_name: str, normalize: bool, network: FeatureNetwork, content_layer: str | None = None
) -> float:
    """log10 of the style weight a Strength gives (with the preset's, normalize's and the content layer's default):
    what steers a run whose style weight is left to Strength."""
    layer = {} if content_layer is None else {"content_layer": content_layer}
    chosen = preset(preset_name, strength=float(strength), normalize=bool(normalize), **layer)
    return math.log10(loss_weights(chosen, network).style)
