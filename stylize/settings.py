"""Every default and allowed range of a style-transfer run, in one frozen dataclass that validates itself."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

NETWORKS = ("auto", "vgg19", "vgg16-hed")  # "auto": ImageNet VGG19 when its weights can be had, else the offline one
OPTIMIZERS = ("adam", "lbfgs")
PRECISIONS = ("auto", "float32", "bfloat16")  # "auto": bfloat16 where the hardware has it, else float32
INITS = ("content", "palette", "noise", "style", "instant")  # palette: the photo in the painting's colours;
# instant: the instant network's picture (stylize/fast), refined
COLORS = ("style", "luminance", "histogram")  # whose colours the result keeps; see stylize/color.py

# Ranges shared by validation, the app's sliders and the CLI's help, so messages can't drift.
SIZE_RANGE = (64, 4096)
STEPS_RANGE = (1, 5000)
WEIGHT_RANGE = (0.0, 1e12)
LEARNING_RATE_RANGE = (1e-5, 1.0)
LAYER_EMPHASIS_RANGE = (-1.0, 1.0)
SEED_RANGE = (0, 2**32 - 1)
PREVIEW_EVERY_RANGE = (1, 1000)
STYLE_SCALE_RANGE = (0.1, 4.0)
STRENGTH_RANGE = (0.0, 10.0)
STRENGTH_MIDDLE = 5.0  # the default: the calibrated balance of style and content (weights.NORMALIZED_WEIGHTS)

SEED_STEPS = 200


@dataclass(frozen=True)
class Settings:
    """One run's settings. The defaults are the recommended ones (the "balanced" preset); presets override some,
    and "seed" is the reference program, exactly."""

    network: str = "auto"  # which feature network measures style and content, one of NETWORKS
    weights_path: str | None = None  # a local VGG19 weights file (.h5) for offline machines; None: Keras' download/cache
    strength: float = STRENGTH_MIDDLE  # 0 (the photo) ... 10 (the painting): scales the default style weight
    normalize: bool = True  # divide each loss term by its value for the photo, so weights mean the same everywhere
    style_weight: float | None = None  # None: the default (weights.NORMALIZED_WEIGHTS) scaled by strength
    content_weight: float | None = None  # None: the default (normalised terms' or, for the raw formula, the network's)
    tv_weight: float | None = None  # None: the default, as content_weight; total variation smooths pixel noise
    size: int = 512  # longer side of the output, in pixels; the style image is scaled to the same longer side
    steps: int = 70  # optimizer steps at the full size
    optimizer: str = "lbfgs"  # "lbfgs" (Gatys et al.'s choice: fewest steps to a given loss) or "adam" (the seed's)
    learning_rate: float = 0.02  # Adam's step size, in pixel units of [0, 1]
    start_size: int | None = 256  # coarse-to-fine: first scale's longer side; None (or >= size): full size only
    coarse_steps: int = 20  # steps at each scale below the full size
    precision: str = "auto"  # "bfloat16" runs the network in mixed precision (about 1.8x faster on CPU)
    antialias: bool = True  # antialias when shrinking inputs; the seed program did not
    init: str = "instant"  # the starting picture, one of INITS: the instant network's carried the most painting
    seed: int = 0  # random seed for noise initialisation
    style_scale: float = 1.0  # style image's longer side as a multiple of the output's: above 1 paints bigger strokes
    colors: str = "style"  # "luminance": keep the content's colours; "histogram": recolour the style to match
    layer_emphasis: float = 0.0  # -1 fine texture (shallow style layers) ... +1 large shapes (deep layers)
    style_blend: tuple[float, ...] = ()  # weights of several style images; () blends them equally
    preview_every: int = 10  # yield a preview every N steps (always on the first and the last)

    def __post_init__(self) -> None:
        check_choice("network", self.network, NETWORKS)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("init", self.init, INITS)
        check_choice("colors", self.colors, COLORS)
        check_choice("antialias", self.antialias, (True, False))
        check_choice("normalize", self.normalize, (True, False))
        check_range("strength", self.strength, STRENGTH_RANGE)
        if self.weights_path is not None and not isinstance(self.weights_path, str):
            raise ValueError(f"weights_path is {self.weights_path!r} but must be a file path or None")
        check_range("seed", self.seed, SEED_RANGE, integer=True)
        check_range("layer_emphasis", self.layer_emphasis, LAYER_EMPHASIS_RANGE)
        if not isinstance(self.style_blend, (list, tuple)):
            raise ValueError(f"style_blend is {self.style_blend!r} but must be a list of weights, one per style image")
        object.__setattr__(self, "style_blend", tuple(self.style_blend))  # JSON gives back a list
        for weight in self.style_blend:
            check_range("style_blend weight", weight, (0.0, 1e6))
        if self.style_blend and sum(self.style_blend) <= 0:
            raise ValueError(f"style_blend is {list(self.style_blend)} but needs at least one weight above 0")
        for name in ("style_weight", "content_weight", "tv_weight"):
            value = getattr(self, name)
            if value is not None:
                check_range(name, value, WEIGHT_RANGE)
        check_range("size", self.size, SIZE_RANGE, integer=True)
        check_range("steps", self.steps, STEPS_RANGE, integer=True)
        check_range("learning_rate", self.learning_rate, LEARNING_RATE_RANGE)
        check_range("preview_every", self.preview_every, PREVIEW_EVERY_RANGE, integer=True)
        check_range("style_scale", self.style_scale, STYLE_SCALE_RANGE)
        check_range("coarse_steps", self.coarse_steps, (0, STEPS_RANGE[1]), integer=True)
        if self.start_size is not None:
            check_range("start_size", self.start_size, (16, SIZE_RANGE[1]), integer=True)
        for name in ("size", "steps", "seed", "preview_every", "coarse_steps", "start_size"):
            if getattr(self, name) is not None:  # a recipe's 5.0 is a whole number: store it as 5, which range() takes
                object.__setattr__(self, name, int(getattr(self, name)))

    def replace(self, **changes) -> Settings:
        """A copy with some fields changed, validated like any other."""
        return dataclasses.replace(self, **changes)

    def schedule(self) -> list[tuple[int, int]]:
        """(longer side, steps) for each scale, smallest first: from start_size up by sqrt(2), then the full size."""
        sizes = []
        if self.start_size is not None and self.coarse_steps > 0:
            side = float(self.start_size)
            while round(side) < self.size:
                sizes.append(round(side))
                side *= math.sqrt(2)
        return [(side, self.coarse_steps) for side in sizes] + [(self.size, self.steps)]

    @property
    def total_steps(self) -> int:
        return sum(steps for _, steps in self.schedule())


# Presets: field overrides on top of Settings' defaults, which are "balanced". The instant start carried more of
# the painting at equal time than the photo or the palette start did (bench/quality.py, README). "seed" is the
# reference program (the TensorFlow tutorial's loop), exactly: tests/seed_reference.py checks it side by side.
PRESETS: dict[str, dict] = {
    "seed": {"optimizer": "adam", "steps": SEED_STEPS, "start_size": None, "coarse_steps": 0, "precision": "float32",
             "init": "content", "antialias": False, "normalize": False},
    "quick": {"coarse_steps": 15, "steps": 25},
    "balanced": {},
    "best": {"start_size": 128, "steps": 150, "precision": "float32"},
}
DEFAULT_PRESET = "balanced"


def preset(name: str, **overrides) -> Settings:
    """Settings for a named preset, with any field overridden; raises ValueError for an unknown name."""
    check_choice("preset", name, tuple(PRESETS))
    return Settings(**{**PRESETS[name], **overrides})


def check_choice(name: str, value, allowed: tuple) -> None:
    """ValueError naming the value and the allowed ones unless value is one of them (shared by every module)."""
    if value not in allowed:
        raise ValueError(f"{name} is {value!r} but must be one of: {', '.join(allowed)}")


def check_range(name: str, value, bounds: tuple, integer: bool = False) -> None:
    """ValueError naming the value and the range unless it is a number (whole if integer) within bounds."""
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{name} is {value!r} but must be {kind} from {low:g} to {high:g}")
    if not (low <= value <= high) or math.isnan(value):
        raise ValueError(f"{name} is {value:g} but must be from {low:g} to {high:g}")
