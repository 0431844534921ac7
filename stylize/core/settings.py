"""Every default and allowed range of a style-transfer run, in one frozen dataclass that validates itself."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from . import paces
from .tiles import Tile, layout

NETWORKS = ("auto", "vgg19", "vgg16-hed")  # "auto": ImageNet VGG19 when its weights can be had, else the offline one
OPTIMIZERS = ("adam", "lbfgs")
PRECISIONS = ("auto", "float32", "bfloat16")  # "auto": bfloat16 where the hardware has it, else float32
INITS = ("content", "palette", "noise", "style", "instant")  # palette: the photo in the painting's colours;
# instant: the instant network's picture (stylize/fast), refined
COLORS = ("style", "luminance", "histogram")  # whose colours the result keeps; see stylize/color.py
# Where the content loss reads the photo (VGG19 and VGG16 name them alike): block5_conv2, the TensorFlow tutorial's
# (the seed program's, and every preset's calibration), or block4_conv2, Gatys et al.'s conv4_2, which holds the
# photo's edges at a finer scale and so keeps more of them beside more style (best; bench/README.md).
CONTENT_LAYERS = ("block5_conv2", "block4_conv2")

MIN_SIDE = 16  # pixels: smaller pictures have no texture for the network to see

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

# Posters: a longer side above POSTER_FROM is painted as a whole at POSTER_BASE (the scales up to it, as any run),
# then at full size in tiles (stylize/poster/): a whole-picture run holds about 3.7 kB a pixel (costs.py), 2.2 GB at
# 768x576 but 46 GB at 4096x3072.
POSTER_FROM = 768
POSTER_BASE = 512
# A poster's default time: its base's (the preset's) plus this many seconds an output megapixel for the tiles: the
# instant network's detail takes 1.3 s a megapixel on 2 cores (4 s at 2048x1536) and about twice that on one. The
# tiles' L-BFGS steps (0.7 s a step on a 512 px tile) run only in time beyond this: judged at 2048 px, they brought
# the up-close distances down (8 steps: 0.47 to 0.25) but the whole picture's style at 512 px down too (Magenta
# 0.77 to 0.73, VGG16 Grams 0.75 to 0.69), so the default stops at the instant detail (bench/README.md, posters).
DETAIL_SECONDS_PER_MEGAPIXEL = 4.0
# And once a poster, the choice of the instant detail's share (stylize/poster/run.detail_share): 1.5 s on 2 cores,
# 4 s on one AVX2 core. Without it a 1024 px poster's three seconds went to the detail and the choice never ran.
DETAIL_CHOICE_SECONDS = 3.0
# best's tiles: time for BEST_TILE_STEPS L-BFGS steps on every tile at this machine's measured pace (core/paces.py;
# each tile's first step costs about one more: it evaluates twice and builds its targets). Judged at 2048 px, 8
# steps brought the up-close distances from 0.50 / 0.58 to about 0.2 while the picture seen whole stayed the base's
# (bench/README.md, posters). A constant 40 s a megapixel gave one core without bfloat16 about one step a tile.
BEST_TILE_STEPS = 8
FIRST_TILE_STEP_EXTRA = 1  # steps' time a tile's first step costs beyond one: it evaluates twice, builds targets
OVERLAP_SHARE = 8  # a poster's neighbouring tiles share at least 1/8 of a tile's side (64 px of 512), cross-faded
TILE_STEPS_RANGE = (0, 500)
TILE_SIZE_RANGE = (64, 1024)
MOST_TILES = 1024  # a recipe's steps per tile: a 4096 px square in 64 px tiles has under 1000 tiles
DETAIL_STEPS = 20  # L-BFGS iterations a poster's tile takes without a time budget

SECONDS_RANGE = (5.0, 3600.0)  # a time budget: the shortest gives the instant start and a few steps
SEED_STEPS = 200


@dataclass(frozen=True)
class Settings:
    """One run's settings. The defaults are the recommended ones (the "balanced" preset); presets override some,
    and "seed" is the reference program, exactly."""

    network: str = "auto"  # which feature network measures style and content, one of NETWORKS
    weights_path: str | None = (
        None  # a local VGG19 weights file (.h5) for offline machines; None: Keras' download/cache
    )
    strength: float = STRENGTH_MIDDLE  # 0 (the photo) ... 10 (the painting): scales the default style weight
    normalize: bool = True  # divide each loss term by its value for the photo, so weights mean the same everywhere
    style_weight: float | None = None  # None: the default (weights.NORMALIZED_WEIGHTS) scaled by strength
    content_weight: float | None = None  # None: the default (normalised terms' or, for the raw formula, the network's)
    tv_weight: float | None = None  # None: the default, as content_weight; total variation smooths pixel noise
    size: int = 512  # longer side of the output, in pixels; the style image is scaled to the same longer side
    seconds: float | None = None  # a time budget: the engine plans its steps to end within it (stylize/pace.py);
    # None runs exactly the steps below. The presets but seed set it; any step field given to preset() clears it.
    steps: int = 70  # optimizer steps at the full size (without a time budget)
    scale_steps: tuple[int, ...] = ()  # steps at each scale, smallest first, as a planned run took them (its
    # recipe replays them exactly); () takes coarse_steps and steps
    optimizer: str = "lbfgs"  # "lbfgs" (Gatys et al.'s choice: fewest steps to a given loss) or "adam" (the seed's)
    learning_rate: float = 0.02  # Adam's step size, in pixel units of [0, 1]
    start_size: int | None = 256  # coarse-to-fine: first scale's longer side; None (or >= size): full size only
    coarse_steps: int = 20  # steps at each scale below the full size (with a time budget: the most it takes)
    precision: str = "auto"  # "bfloat16" runs the network in mixed precision (about 1.8x faster on CPU)
    antialias: bool = True  # antialias when shrinking inputs; the seed program did not
    init: str = "instant"  # the starting picture, one of INITS: the instant network's carried the most painting
    seed: int = 0  # random seed for noise initialisation
    style_scale: float = 1.0  # style image's longer side as a multiple of the output's: above 1 paints bigger strokes
    colors: str = "style"  # "luminance": keep the content's colours; "histogram": recolour the style to match
    layer_emphasis: float = 0.0  # -1 fine texture (shallow style layers) ... +1 large shapes (deep layers)
    content_layer: str = CONTENT_LAYERS[0]  # the feature layer the content loss compares, one of CONTENT_LAYERS
    style_blend: tuple[float, ...] = ()  # weights of several style images; () blends them equally
    preview_every: int = 10  # yield a preview every N steps (always on the first and the last)
    tile_size: int = 512  # a poster's tiles' side in output pixels (neighbours share an eighth of it, feathered)
    tile_steps: tuple[int, ...] = ()  # a poster's steps on each tile, as a run took them (its recipe replays them);
    # () takes the time budget's, or stylize/poster's default without one
    tile_detail: float | None = None  # the instant network's detail's share in a poster (0-1), as a run chose it
    # (its recipe replays it); None: the share whose 1:1 texture is nearest the painting's (stylize/poster)

    def __post_init__(self) -> None:
        check_choice("network", self.network, NETWORKS)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("init", self.init, INITS)
        check_choice("colors", self.colors, COLORS)
        check_choice("content_layer", self.content_layer, CONTENT_LAYERS)
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
        if self.seconds is not None:
            check_range("seconds", self.seconds, SECONDS_RANGE)
        check_range("learning_rate", self.learning_rate, LEARNING_RATE_RANGE)
        check_range("preview_every", self.preview_every, PREVIEW_EVERY_RANGE, integer=True)
        check_range("style_scale", self.style_scale, STYLE_SCALE_RANGE)
        check_range("coarse_steps", self.coarse_steps, (0, STEPS_RANGE[1]), integer=True)
        if self.start_size is not None:
            check_range("start_size", self.start_size, (16, SIZE_RANGE[1]), integer=True)
        for name in ("size", "steps", "seed", "preview_every", "coarse_steps", "start_size"):
            if getattr(self, name) is not None:  # a recipe's 5.0 is a whole number: store it as 5, which range() takes
                object.__setattr__(self, name, int(getattr(self, name)))
        if self.seconds is not None:
            object.__setattr__(self, "seconds", float(self.seconds))
        self._check_scale_steps()

    def _check_tiles(self) -> None:
        if not isinstance(self.tile_steps, (list, tuple)):
            raise ValueError(f"tile_steps is {self.tile_steps!r} but must be a list of step counts, one per tile")
        check_range("tile_size", self.tile_size, TILE_SIZE_RANGE, integer=True)
        if self.tile_detail is not None:
            check_range("tile_detail", self.tile_detail, (0.0, 1.0))
            object.__setattr__(self, "tile_detail", float(self.tile_detail))
        object.__setattr__(self, "tile_size", int(self.tile_size))
        if len(self.tile_steps) > MOST_TILES:
            raise ValueError(f"tile_steps has {len(self.tile_steps)} counts but a poster has at most {MOST_TILES}")
        for count in self.tile_steps:
            check_range("tile_steps count", count, TILE_STEPS_RANGE, integer=True)
        object.__setattr__(self, "tile_steps", tuple(int(count) for count in self.tile_steps))
        if self.tile_steps and self.seconds is not None:
            raise ValueError(
                "tile_steps and seconds are both set but a run takes either exact steps or a time budget: leave one out"
            )
        for name in ("tile_steps", "tile_detail"):
            if getattr(self, name) not in ((), None) and not self.poster:
                raise ValueError(
                    f"{name} is given but size {self.size} is not a poster: tiles start above {POSTER_FROM} px"
                )

    @property
    def poster(self) -> bool:
        """Whether the output is painted in tiles above a whole-picture base (stylize/poster/)."""
        return self.size > POSTER_FROM

    def _check_scale_steps(self) -> None:
        if not isinstance(self.scale_steps, (list, tuple)):
            raise ValueError(f"scale_steps is {self.scale_steps!r} but must be a list of step counts, one per scale")
        object.__setattr__(self, "scale_steps", tuple(self.scale_steps))  # JSON gives back a list
        if not self.scale_steps:
            self._check_tiles()
            return
        for count in self.scale_steps:
            check_range("scale_steps count", count, (0, STEPS_RANGE[1]), integer=True)
        object.__setattr__(self, "scale_steps", tuple(int(count) for count in self.scale_steps))
        self._check_tiles()
        sides = self.sides()
        if len(self.scale_steps) != len(sides):
            raise ValueError(
                f"scale_steps has {len(self.scale_steps)} counts but these settings have {len(sides)} "
                f"scales ({', '.join(map(str, sides))} px): give one count per scale, or a time "
                "budget (seconds) or steps instead"
            )
        if sum(self.scale_steps) == 0:
            raise ValueError("scale_steps are all 0 but at least one step must run")
        if self.seconds is not None:
            raise ValueError(
                "scale_steps and seconds are both set but a run takes either exact steps or a time "
                "budget: leave one out"
            )

    def replace(self, **changes) -> Settings:
        """A copy with some fields changed, validated like any other."""
        return dataclasses.replace(self, **changes)

    @property
    def whole_size(self) -> int:
        """The longer side of the largest scale painted as a whole: the size, or a poster's base."""
        return POSTER_BASE if self.poster else self.size

    def sides(self) -> list[int]:
        """The longer side of each scale painted as a whole, smallest first: from start_size up by sqrt(2), then the
        full size (a poster's base; its tiles follow, stylize/poster/)."""
        sizes, top = [], self.whole_size
        if self.start_size is not None and self.coarse_steps > 0:
            side = float(self.start_size)
            while round(side) < top:
                sizes.append(round(side))
                side *= math.sqrt(2)
        return sizes + [top]

    def schedule(self) -> list[tuple[int, int]]:
        """(longer side, steps) for each scale, smallest first; with a time budget the steps are each scale's most
        (the full size's: as many as fit), as the run's plan decides (stylize/pace.py)."""
        sides = self.sides()
        if self.scale_steps:
            return list(zip(sides, self.scale_steps))
        last = STEPS_RANGE[1] if self.seconds is not None else self.steps
        return [(side, self.coarse_steps) for side in sides[:-1]] + [(sides[-1], last)]

    @property
    def total_steps(self) -> int:
        """The steps the run takes; with a time budget the most it could (the plan takes as many as fit)."""
        return sum(steps for _, steps in self.schedule())

    def steps_text(self) -> str:
        """The steps at each scale, in words: '8 + 4 + 17 steps at 256, 362, 512 px', and a poster's on its tiles
        (' + 31 on 6 tiles')."""
        scales = [(side, steps) for side, steps in self.schedule() if steps]
        tiles = f" + {sum(self.tile_steps)} on {len(self.tile_steps)} tiles" if self.tile_steps else ""
        return (
            f"{' + '.join(str(steps) for _, steps in scales)} step{'s' if self.total_steps != 1 else ''} at "
            f"{', '.join(str(side) for side, _ in scales)} px{tiles}"
        )

    def as_run(self, scale_steps: list[int], tile_steps: tuple[int, ...] = ()) -> Settings:
        """These settings as the exact steps a run took at each scale (and a poster on each tile): what reproduces
        its picture."""
        counts = list(scale_steps) + [0] * (len(self.sides()) - len(scale_steps))
        return self.replace(  # steps: as shown
            seconds=None, scale_steps=tuple(counts), steps=max(1, counts[-1]), tile_steps=tuple(tile_steps)
        )


# Presets: field overrides on top of Settings' defaults. quick, balanced and best are time budgets on the machine
# that runs them (from the click to the last picture); the instant start carried more of the painting at equal
# time than the photo or the palette start did (bench/quality.py; bench/README.md). "seed" is the reference program (the
# TensorFlow tutorial's loop), exactly: tests/seed_reference.py checks it side by side.
PRESETS: dict[str, dict] = {
    "seed": {
        "optimizer": "adam",
        "steps": SEED_STEPS,
        "start_size": None,
        "coarse_steps": 0,
        "precision": "float32",
        "init": "content",
        "antialias": False,
        "normalize": False,
    },
    "quick": {"seconds": 15.0, "start_size": None},  # at the full size from the instant start: each scale costs
    # its targets and a first step of two evaluations, which 15 s without bfloat16 can't spare (bench/README.md, speed)
    "balanced": {"seconds": 60.0},
    # best paints the whole picture with the steps balanced's minute takes on the project's machine, however long
    # they take here (a slower machine's minute gives a weakly styled picture): more steps than that faded the photo
    # (three minutes at 512 px, 150 full-size steps: content keep 0.34-0.48 against 0.63), and neither holding the
    # content loss, a 4x content weight after the first minute nor painting at 724 px and shrinking beat balanced's
    # minute on every measure (bench/README.md, "best"). Comparing content at block4_conv2 (with more style,
    # weights.CONTENT_LAYER_STYLE) raised the VGG16-HED Gram match on 14 pairs of 14 and content keep on 10 (2 tied,
    # 2 fell by 0.005 at most), the measures sharing no part with the run (bench/README.md, "best's content layer").
    # Its other time goes to a poster's tiles.
    "best": {"seconds": 60.0, "content_layer": "block4_conv2"},
}
TILE_STEPS = {"best": BEST_TILE_STEPS}  # a preset's poster tiles' steps within its default time
# Presets whose default time is made of steps at this machine's pace: the whole picture's (BASE_MOST_SECONDS on the
# project's machine) and a poster's tiles' (TILE_STEPS).
MACHINE_PACED = ("best",)
# The most time the whole picture (a poster's base) takes, on the project's machine: balanced's minute. More fades
# the photo (above); a machine that steps N times slower gets N minutes (paces.slowdown), as many steps.
BASE_MOST_SECONDS: float = PRESETS["balanced"]["seconds"]
DEFAULT_PRESET = "balanced"
STEP_FIELDS = (
    "steps",
    "coarse_steps",
    "scale_steps",
    "tile_steps",
)  # giving one runs exact steps instead of the preset's time


def preset(name: str, **overrides) -> Settings:
    """Settings for a named preset, with any field overridden; raises ValueError for an unknown name.

    Exact steps override a preset's time budget: preset("balanced", steps=40) runs 40 steps, however long."""
    check_choice("preset", name, tuple(PRESETS))
    settings = overridden(Settings(**PRESETS[name]), **overrides)
    if settings.seconds is not None and "seconds" not in overrides and (settings.poster or name in MACHINE_PACED):
        settings = settings.replace(
            seconds=preset_seconds(name, settings.size, precision=settings.precision, tile_size=settings.tile_size)
        )
    return settings


def preset_seconds(name: str, size: int, aspect: float = 0.75, precision: str = "auto", tile_size: int = 512) -> float:
    """A preset's default time at a size: its whole picture's (for MACHINE_PACED ones, base_most_seconds), plus for a
    poster the choice of its detail and the instant detail's time, and for a preset with TILE_STEPS that many steps
    on every tile, at this machine's pace in this precision (paces.tile_step: measured once the app or the command
    line has loaded, else the project machine's)."""
    base_seconds = base_most_seconds(precision) if name in MACHINE_PACED else PRESETS[name]["seconds"]
    if size <= POSTER_FROM:
        return round(base_seconds)
    shape = (max(1, round(size * aspect)), size)
    detail = DETAIL_CHOICE_SECONDS + DETAIL_SECONDS_PER_MEGAPIXEL * shape[0] * shape[1] / 1e6
    steps = TILE_STEPS.get(name, 0)
    tiles = (steps + FIRST_TILE_STEP_EXTRA) * tile_step_seconds(shape, tile_size, precision) if steps else 0.0
    return min(SECONDS_RANGE[1], round(base_seconds + detail + tiles))


def base_most_seconds(precision: str) -> float:
    """The most time the whole picture takes well here: BASE_MOST_SECONDS at this machine's pace in precision."""
    return BASE_MOST_SECONDS * paces.slowdown(precision)


def poster_layout(shape: tuple[int, int], tile_size: int) -> list[Tile]:
    """The tiles of a poster of shape, neighbours sharing 1/OVERLAP_SHARE of a tile's side."""
    return layout(shape, tile_size, tile_size // OVERLAP_SHARE)


def tile_megapixels(shape: tuple[int, int], tile_size: int) -> float:
    """The megapixels of all a poster's tiles together: their overlaps counted twice (1.7x the picture at 2048 px)."""
    return sum(tile.shape[0] * tile.shape[1] for tile in poster_layout(shape, tile_size)) / 1e6


def tile_step_seconds(shape: tuple[int, int], tile_size: int, precision: str) -> float:
    """Seconds for one step on every tile of a poster of shape, at this machine's pace in precision (core/paces.py)."""
    return paces.tile_step(precision) * tile_megapixels(shape, tile_size)


def overridden(base: Settings, **overrides) -> Settings:
    """base with fields overridden, where time and steps exclude each other: a step field (steps, coarse_steps,
    scale_steps) given without seconds means exact steps; seconds given means a time budget, whatever steps the base
    (a result's recipe) took at each scale."""
    fields = dict(overrides)
    if "seconds" not in overrides and any(field in overrides for field in STEP_FIELDS):
        fields["seconds"] = None
    if fields.get("seconds") is not None or (
        {"steps", "coarse_steps"} & set(overrides) and "scale_steps" not in overrides
    ):
        fields["scale_steps"] = ()
    if fields.get("seconds") is not None and "tile_steps" not in overrides:
        fields["tile_steps"] = ()
    if fields.get("seconds") is not None and "tile_detail" not in overrides:
        fields["tile_detail"] = None  # a new budget's run chooses its share again, as it plans its tile steps
    return base.replace(**fields)


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


def style_size(side: int, settings: Settings) -> int:
    """The painting's longer side for an output whose longer side is side."""
    return max(MIN_SIDE, round(side * settings.style_scale))
