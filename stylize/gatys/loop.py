"""The Gatys loop: a generator that optimizes a picture's pixels and yields Progress records as it goes."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from ..core import color, images
from ..core.costs import run_shapes
from ..core.images import ImageSource
from ..core.limits import check_memory, check_sizes, decode_sides
from ..core.settings import CONTENT_LAYERS, STRENGTH_MIDDLE, Settings, style_size
from .losses import style_layer_weights
from .networks import FeatureNetwork, load_network
from .objective import Objective, build_objective
from .optimizers import PixelOptimizer, make_optimizer, traced_losses_and_gradient
from .pace import Plan
from .weights import LossWeights, loss_weights


@dataclass(frozen=True)
class Progress:
    """One look at a run: the picture after `step` of `total` steps, the losses that got it there, and time left."""

    step: int
    total: int
    image: np.ndarray  # uint8 HxWx3, the current picture (smaller than the output during coarse scales)
    losses: dict[str, float]  # style, content, tv, total of the last step's input; empty before the first step
    elapsed: float  # seconds since the run started
    fraction: float = 0.0  # share of the run done: of its time budget, or of its steps weighted by pixel count
    network: str = ""  # label of the network in use
    notes: tuple[str, ...] = field(default=())  # things the user should know (fallback network, steering)
    eta: float | None = None  # seconds left at the pace measured so far (stylize/pace.py); None until there is one
    weights: LossWeights | None = None  # the loss weights in use (steering moves them)
    settings: Settings | None = None  # the run's settings with the weights in use and, under a time budget, the
    # steps it took at each scale: what reproduces this picture
    steered_at: int | None = None  # the step at which steering last changed the weights; None: never
    budget: float | None = None  # the run's time budget in seconds; None: it runs exact steps (total is exact)

    @property
    def done(self) -> bool:
        return self.step == self.total

    @property
    def steering_note(self) -> str:
        """What steering did, in a sentence; empty when the weights never moved."""
        if self.steered_at is None or self.weights is None:
            return ""
        return describe_steering(self.steered_at, self.weights)


def describe_steering(step: int, weights: LossWeights) -> str:
    """The sentence a record carries once steering moved the weights: when, and to what."""
    return (
        f"Weights changed at step {step}: style {weights.style:.3g}, content {weights.content:.3g}, "
        f"TV {weights.tv:.3g}."
    )


class LossNotFinite(ValueError):
    """The loss turned NaN or infinite: the run stops; .last is the last record with a finite loss, to keep."""

    def __init__(self, step: int, value: float, last: Progress):
        super().__init__(
            f"the loss became {value} at step {step}, so the run stopped (the picture from step "
            f"{last.step} is kept): try a larger size or style scale, or smaller weights"
        )
        self.last = last


Steer = Callable[[], "LossWeights | None"]
# The instant start: (photo, painting, share of the painting's style in [0, 1]) -> uint8 picture. It is handed in
# (stylize/transfer.py hands in the instant network's), so this method never imports the feed-forward one.
InstantStart = Callable[[np.ndarray, np.ndarray, float], np.ndarray]
clock = time.perf_counter  # what a run's time is measured with (tests replace it)
# One painting, or several in a list or tuple (any other value, a str included, is one painting's source).
StyleSource = ImageSource | list[ImageSource] | tuple[ImageSource, ...]


def checked_pictures(
    content: ImageSource, style: StyleSource, settings: Settings
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The photo and the paintings decoded, checked against the settings and the machine before any work, and
    (colors="histogram") the paintings recoloured to the photo."""
    content_side, style_side = decode_sides(settings)
    content = images.load_image(content, "content image", content_side)
    sources = list(style) if isinstance(style, (list, tuple)) else [style]
    styles = [
        images.load_image(source, f"style image {i + 1}" if len(sources) > 1 else "style image", style_side)
        for i, source in enumerate(sources)
    ]
    if settings.style_blend and len(settings.style_blend) != len(styles):
        raise ValueError(
            f"style_blend has {len(settings.style_blend)} weights but there are {len(styles)} "
            "style images: give one weight per style image"
        )
    check_sizes(settings, content.shape[:2], [picture.shape[:2] for picture in styles])
    check_memory(*run_shapes(settings, content.shape[:2], [picture.shape[:2] for picture in styles]))
    if settings.colors == "histogram":
        styles = [color.match_histogram(picture, content) for picture in styles]
    return content, styles


def stylize(
    content: ImageSource,
    style: StyleSource,
    settings: Settings = Settings(),
    *,
    network: FeatureNetwork | None = None,
    mask: np.ndarray | None = None,
    steer: Steer | None = None,
    instant: InstantStart | None = None,
) -> Iterator[Progress]:
    """Yield Progress records while turning content into a picture in the style of style (one or several).

    The first record comes before any step (the starting picture); then one every settings.preview_every
    steps and always the last. mask (HxW in [0, 1], any size) limits the style to where it is 1. steer is
    asked before every step for new loss weights (None: keep them), so a run can be re-weighted as it goes.
    instant makes the starting picture of init="instant". Closing the generator stops the run at its next step.
    """
    started = clock()  # a time budget counts decoding the pictures too
    content, styles = checked_pictures(content, style, settings)
    yield from stylize_pictures(
        content, styles, settings, network=network, mask=mask, steer=steer, started=started, instant=instant
    )


def stylize_pictures(
    content: np.ndarray,
    styles: list[np.ndarray],
    settings: Settings,
    *,
    network: FeatureNetwork | None = None,
    mask: np.ndarray | None = None,
    steer: Steer | None = None,
    started: float | None = None,
    instant: InstantStart | None = None,
) -> Generator[Progress, None, None]:
    """stylize() on the pictures checked_pictures returned for these settings: the app and the command line check
    their uploads first (to refuse them before queueing or loading a network), then hand them over as they are.
    started (loop.clock()'s reading at the click) is when a time budget and the elapsed time count from."""
    if settings.init == "instant" and instant is None:
        raise ValueError(
            "init is 'instant' but no instant start was given: pass instant= (stylize.stylize passes "
            "the instant network's), or choose another init"
        )
    network = network or load_network(settings.network, settings.weights_path)
    run = Run(settings, Plan(settings, clock, started), network, loss_weights(settings, network), steer)
    optimizer = make_optimizer(settings)
    step, last_good, picture = 0, None, None  # picture: the optimized pixels, float HxWx3 at the current scale
    for index, side in enumerate(run.plan.sides):
        if not run.plan.worth_entering(index) and index != run.last_scale:
            continue
        scale = prepare_scale(run, content, styles, mask, side)
        picture = (
            initial_picture(settings, scale.content, scale.styles[0], instant)
            if picture is None
            else images.resize(picture, scale.content.shape[:2], antialias=False)
        )
        run.plan.enter(index)
        if step == 0:
            last_good = run.record(scale, 0, picture, {})
            yield last_good
        assert last_good is not None  # the first scale entered recorded its starting picture (step 0) above
        step, last_good = yield from optimize_scale(
            run, optimizer, scale, picture, step, last_good, final_scale=index == run.last_scale
        )


@dataclass
class Run:
    """What a run carries from scale to scale: its settings, plan and network, and the weights steering moves."""

    settings: Settings
    plan: Plan
    network: FeatureNetwork
    weights: LossWeights
    steer: Steer | None = None
    steered_at: int | None = None  # the step at which steering last changed the weights

    def __post_init__(self):
        self.model = self.network.in_precision(self.settings.precision)
        self.layer_weights = (
            style_layer_weights(self.network.style_layers, self.settings.layer_emphasis)
            if self.settings.layer_emphasis
            else None
        )  # None: equal weights, exactly as the seed
        self.last_scale = max(index for index in range(len(self.plan.sides)) if self.plan.most[index] > 0)

    def steered(self, step: int) -> bool:
        """Ask steer for new weights before a step; True when they changed (the objective then takes them)."""
        weights = self.steer() if self.steer else None
        if weights is None or weights == self.weights:
            return False
        self.weights, self.steered_at = weights, step
        return True

    def record(self, scale: Scale, step: int, x: np.ndarray, losses: dict, done: bool = False) -> Progress:
        """The Progress record of picture x after step at this scale."""
        settings, plan, weights = self.settings, self.plan, self.weights
        picture = scale.objective.compose(x[None])[0].numpy() if scale.objective.mask is not None else x
        if settings.colors == "luminance":
            picture = color.keep_luminance(picture, scale.content)
        effective = settings.as_run(plan.ran) if plan.timed and step else settings
        notes: tuple[str, ...] = (self.network.note,) if self.network.note else ()
        if self.steered_at is not None:  # the notes say it too, for callers that read only the notes
            effective = effective.replace(
                style_weight=weights.style, content_weight=weights.content, tv_weight=weights.tv
            )
            notes += (describe_steering(self.steered_at, weights),)
        # Under a budget the total is the plan's, re-estimated as the pace is measured; done only at the end.
        total = step if done else max(plan.planned_steps(), step + 1)
        return Progress(
            step=step,
            total=total,
            image=images.to_uint8(picture),
            losses={k: float(v) for k, v in losses.items()},
            elapsed=plan.elapsed(),
            fraction=1.0 if done else plan.fraction(),
            network=self.network.label,
            notes=notes,
            eta=None if done or not step else plan.seconds_left(),
            weights=weights,
            settings=effective,
            steered_at=self.steered_at,
            budget=settings.seconds,
        )


@dataclass(frozen=True)
class Scale:
    """One scale of a run: the photo and paintings resized to it, and the objective built on them."""

    content: np.ndarray
    styles: list[np.ndarray]
    objective: Objective


def prepare_scale(run: Run, content: np.ndarray, styles: list[np.ndarray], mask: np.ndarray | None, side: int) -> Scale:
    """The photo at side, each painting at its style size for side, the mask, and the objective on them."""
    settings = run.settings
    height, width = content.shape[:2]
    shape = images.scaled_shape(height, width, side)
    scaled_content = images.resize(content, shape, settings.antialias)
    scaled_styles = [
        images.resize_longer_side(painting, style_size(side, settings), settings.antialias) for painting in styles
    ]
    scaled_mask = None if mask is None else images.resize(np.asarray(mask, np.float32)[..., None], shape)[..., 0]
    objective = build_objective(
        run.model,
        scaled_content,
        scaled_styles,
        run.weights,
        settings.style_blend,
        run.layer_weights,
        scaled_mask,
        settings.normalize,
        (settings.content_layer,),
    )
    return Scale(scaled_content, scaled_styles, objective)


def optimize_scale(
    run: Run,
    optimizer: PixelOptimizer,
    scale: Scale,
    picture: np.ndarray,
    step: int,
    last_good: Progress,
    final_scale: bool,
) -> Generator[Progress, None, tuple[int, Progress]]:
    """Step the picture at one scale for as long as the plan wants, yielding previews; return the step count and
    the last record with a finite loss."""
    plan = run.plan
    while plan.wants_step():
        steps_run = optimizer.steps(scale.objective, picture, plan.steps_left_here())
        try:
            for losses in steps_run:
                step += 1
                if losses and not math.isfinite(float(losses["total"])):
                    raise LossNotFinite(step, float(losses["total"]), last_good)
                plan.stepped(float(losses["total"]) if losses else math.nan)
                more = plan.wants_step()  # asked once: the answer can change as time passes
                final = final_scale and not more
                if step % run.settings.preview_every == 0 or final:
                    last_good = run.record(scale, step, optimizer.current_picture(), losses, done=final)
                    yield last_good
                if not more:
                    break
                if run.steered(step):
                    scale.objective.set_weights(run.weights)
                    plan.reweighted()
                    if optimizer.restart_when_reweighted:
                        break  # continue from the current picture with a fresh optimizer state
        finally:
            steps_run.close()
        picture = optimizer.current_picture()
    return step, last_good


def warm_up(
    network: FeatureNetwork, precision: str = "auto", content_layers: tuple[str, ...] = CONTENT_LAYERS
) -> float:
    """Trace the optimizer's step for the network in a precision, on two small pictures, for each content layer
    (each is its own trace), and return the seconds it took: part of loading, so that no run's time budget pays for
    compiling (0.4-2 s a trace on a CPU)."""
    started = time.perf_counter()
    model = network.in_precision(precision)
    for layer, side in itertools.product(content_layers, (32, 48)):  # two sizes: generalised to any (reduce_retracing)
        picture = np.full((side, side, 3), 0.5, np.float32)
        objective = build_objective(model, picture, [picture], LossWeights(1.0, 1.0, 1.0), content_layers=(layer,))
        traced_losses_and_gradient(model)(tf.constant(picture[None]), objective.arguments())
    return time.perf_counter() - started


def initial_picture(
    settings: Settings, content: np.ndarray, style: np.ndarray, instant: InstantStart | None = None
) -> np.ndarray:
    """The picture the optimizer starts from: the content, the content in the style's colours (palette), the
    content in one pass of the instant network (the first stylised preview comes at once; the loop refines it),
    seeded noise, or the style stretched to the content."""
    # Below the middle strength, palette and instant starts keep a share of the photo, down to all of it at 0.
    share = min(1.0, settings.strength / STRENGTH_MIDDLE)
    if settings.init == "palette":
        # Pixel optimizers change a picture's overall brightness and colour slowly (VGG's gradients are mostly
        # high-frequency): starting in the painting's colours leaves the steps for its texture.
        return content + share * (color.match_colour_statistics(content, style) - content)
    if settings.init == "instant" and share > 0:  # at 0 the photo itself, not the photo in its own style
        if instant is None:
            raise ValueError("init is 'instant' but no instant start was given")
        return instant(content, style, share).astype(np.float32) / 255.0
    if settings.init == "noise":
        return np.random.default_rng(settings.seed).uniform(0, 1, content.shape).astype(np.float32)
    if settings.init == "style":
        return images.resize(style, content.shape[:2], antialias=True)
    return content.copy()
