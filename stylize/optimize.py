"""The Gatys loop: a generator that optimizes a picture's pixels and yields Progress records as it goes."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np
import tensorflow as tf

from . import color, images
from .fast.instant import instant_stylize
from .images import ImageSource
from .limits import check_memory, check_sizes, decode_sides, run_shapes, style_size
from .losses import style_layer_weights
from .networks import FeatureNetwork, load_network
from .objective import build_objective
from .optimizers import make_optimizer, traced_losses_and_gradient
from .pace import Plan
from .settings import STRENGTH_MIDDLE, Settings
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
    return (f"Weights changed at step {step}: style {weights.style:.3g}, content {weights.content:.3g}, "
            f"TV {weights.tv:.3g}.")


class LossNotFinite(ValueError):
    """The loss turned NaN or infinite: the run stops; .last is the last record with a finite loss, to keep."""

    def __init__(self, step: int, value: float, last: Progress):
        super().__init__(f"the loss became {value} at step {step}, so the run stopped (the picture from step "
                         f"{last.step} is kept): try a larger size or style scale, or smaller weights")
        self.last = last


Steer = Callable[[], "LossWeights | None"]
clock = time.perf_counter  # what a run's time is measured with (tests replace it)


def checked_pictures(content: ImageSource, style: ImageSource | Sequence[ImageSource],
                     settings: Settings) -> tuple[np.ndarray, list[np.ndarray]]:
    """The photo and the paintings decoded, checked against the settings and the machine before any work, and
    (colors="histogram") the paintings recoloured to the photo."""
    content_side, style_side = decode_sides(settings)
    content = images.load_image(content, "content image", content_side)
    sources = list(style) if isinstance(style, (list, tuple)) else [style]
    styles = [images.load_image(source, f"style image {i + 1}" if len(sources) > 1 else "style image", style_side)
              for i, source in enumerate(sources)]
    if settings.style_blend and len(settings.style_blend) != len(styles):
        raise ValueError(f"style_blend has {len(settings.style_blend)} weights but there are {len(styles)} "
                         "style images: give one weight per style image")
    check_sizes(settings, content.shape[:2], [picture.shape[:2] for picture in styles])
    check_memory(*run_shapes(settings, content.shape[:2], [picture.shape[:2] for picture in styles]))
    if settings.colors == "histogram":
        styles = [color.match_histogram(picture, content) for picture in styles]
    return content, styles


def stylize(content: ImageSource, style: ImageSource | Sequence[ImageSource], settings: Settings = Settings(), *,
            network: FeatureNetwork | None = None, mask: np.ndarray | None = None,
            steer: Steer | None = None) -> Iterator[Progress]:
    """Yield Progress records while turning content into a picture in the style of style (one or several).

    The first record comes before any step (the starting picture); then one every settings.preview_every
    steps and always the last. mask (HxW in [0, 1], any size) limits the style to where it is 1. steer is
    asked before every step for new loss weights (None: keep them), so a run can be re-weighted as it goes.
    Closing the generator stops the run at its next step.
    """
    started = clock()  # a time budget counts decoding the pictures too
    content, styles = checked_pictures(content, style, settings)
    yield from stylize_pictures(content, styles, settings, network=network, mask=mask, steer=steer, started=started)


def stylize_pictures(content: np.ndarray, styles: list[np.ndarray], settings: Settings, *,
                     network: FeatureNetwork | None = None, mask: np.ndarray | None = None,
                     steer: Steer | None = None, started: float | None = None) -> Iterator[Progress]:
    """stylize() on the pictures checked_pictures returned for these settings: the app and the command line check
    their uploads first (to refuse them before queueing or loading a network), then hand them over as they are.
    started (optimize.clock()'s reading at the click) is when a time budget and the elapsed time count from."""
    plan = Plan(settings, clock, started)
    network = network or load_network(settings.network, settings.weights_path)
    weights = loss_weights(settings, network)
    model = network.in_precision(settings.precision)
    layer_weights = (style_layer_weights(network.style_layers, settings.layer_emphasis)
                     if settings.layer_emphasis else None)  # None: equal weights, exactly as the seed
    network_notes = (network.note,) if network.note else ()
    optimizer = make_optimizer(settings)
    steered_at = None

    def record(step: int, x: np.ndarray, losses: dict, done: bool = False) -> Progress:
        picture = objective.compose(x[None])[0].numpy() if objective.mask is not None else x
        if settings.colors == "luminance":
            picture = color.keep_luminance(picture, scaled_content)
        effective, notes = settings.as_run(plan.ran) if plan.timed and step else settings, network_notes
        if steered_at is not None:  # the notes say it too, for callers that read only the notes
            effective = effective.replace(style_weight=weights.style, content_weight=weights.content,
                                          tv_weight=weights.tv)
            notes += (describe_steering(steered_at, weights),)
        # Under a budget the total is the plan's, re-estimated as the pace is measured; done only at the end.
        total = step if done else max(plan.planned_steps(), step + 1)
        return Progress(step=step, total=total, image=images.to_uint8(picture),
                        losses={k: float(v) for k, v in losses.items()}, elapsed=plan.elapsed(),
                        fraction=1.0 if done else plan.fraction(), network=network.label, notes=notes,
                        eta=None if done or not step else plan.seconds_left(), weights=weights, settings=effective,
                        steered_at=steered_at, budget=settings.seconds)

    step, last_scale = 0, max(index for index in range(len(plan.sides)) if plan.most[index] > 0)
    picture = None  # the optimized pixels, float HxWx3 at the current scale
    for index, side in enumerate(plan.sides):
        if not plan.worth_entering(index) and index != last_scale:
            continue
        shape = images.scaled_shape(*content.shape[:2], side)
        scaled_content = images.resize(content, shape, settings.antialias)
        scaled_styles = [images.resize_longer_side(painting, style_size(side, settings), settings.antialias)
                         for painting in styles]
        scaled_mask = None if mask is None else images.resize(np.asarray(mask, np.float32)[..., None], shape)[..., 0]
        objective = build_objective(model, scaled_content, scaled_styles, weights, settings.style_blend,
                                    layer_weights, scaled_mask, settings.normalize)
        picture = (initial_picture(settings, scaled_content, scaled_styles[0]) if picture is None
                   else images.resize(picture, shape, antialias=False))
        plan.enter(index)
        if step == 0:
            last_good = record(0, picture, {})
            yield last_good
        while plan.wants_step():
            steps_run = optimizer.steps(objective, picture, plan.steps_left_here())
            try:
                for losses in steps_run:
                    step += 1
                    if losses and not math.isfinite(float(losses["total"])):
                        raise LossNotFinite(step, float(losses["total"]), last_good)
                    plan.stepped(float(losses["total"]) if losses else math.nan)
                    more = plan.wants_step()  # asked once: the answer can change as time passes
                    final = index == last_scale and not more
                    if step % settings.preview_every == 0 or final:
                        last_good = record(step, optimizer.current_picture(), losses, done=final)
                        yield last_good
                    if not more:
                        break
                    steered = steer() if steer else None
                    if steered is not None and steered != weights:
                        weights, steered_at = steered, step
                        objective.set_weights(weights)
                        plan.reweighted()
                        if optimizer.restart_when_reweighted:
                            break  # continue from the current picture with a fresh optimizer state
            finally:
                steps_run.close()
            picture = optimizer.current_picture()


def warm_up(network: FeatureNetwork, precision: str = "auto") -> float:
    """Trace the optimizer's step for the network in a precision, on two small pictures, and return the seconds it
    took: part of loading, so that no run's time budget pays for compiling (0.4-2 s a trace on a CPU)."""
    started = time.perf_counter()
    model = network.in_precision(precision)
    for side in (32, 48):  # two sizes: the trace is generalised to any size (reduce_retracing)
        picture = np.full((side, side, 3), 0.5, np.float32)
        objective = build_objective(model, picture, [picture], LossWeights(1.0, 1.0, 1.0))
        traced_losses_and_gradient(model)(tf.constant(picture[None]), objective.arguments())
    return time.perf_counter() - started


def initial_picture(settings: Settings, content: np.ndarray, style: np.ndarray) -> np.ndarray:
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
        return instant_stylize(content, style, strength=share).astype(np.float32) / 255.0
    if settings.init == "noise":
        return np.random.default_rng(settings.seed).uniform(0, 1, content.shape).astype(np.float32)
    if settings.init == "style":
        return images.resize(style, content.shape[:2], antialias=True)
    return content.copy()
