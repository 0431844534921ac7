"""The Gatys loop: a generator that optimizes a picture's pixels and yields Progress records as it goes."""

from __future__ import annotations

import hashlib
import math
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np
import scipy.optimize
import tensorflow as tf

from . import color, images
from .images import ImageSource
from .losses import content_loss, gram_matrices, style_layer_weights, style_loss, total_variation_loss
from .networks import FeatureNetwork, LossWeights, load_network
from .quiet import gpu_present
from .settings import STRENGTH_MIDDLE, Settings, strength_factor


@dataclass(frozen=True)
class Progress:
    """One look at a run: the picture after `step` of `total` steps, and the losses that got it there."""

    step: int
    total: int
    image: np.ndarray  # uint8 HxWx3, the current picture (smaller than the output during coarse scales)
    losses: dict[str, float]  # style, content, tv, total of the last step's input; empty before the first step
    elapsed: float  # seconds since the run started
    fraction: float = 0.0  # share of the run's work done, steps weighted by their pixel count (for time left)
    network: str = ""  # label of the network in use
    notes: tuple[str, ...] = field(default=())  # things the user should know (fallback network, steering)

    @property
    def done(self) -> bool:
        return self.step == self.total


class Objective:
    """The weighted sum of style, content and TV losses of a picture against fixed targets.

    scales multiplies each term before its weight: 1 for the seed's raw terms, 1 / (the term's value for the
    photo) when normalised (see term_scales). With a mask, the optimized pixels x only show where the mask is:
    the picture is base + mask * (x - base), so outside the mask it stays the content and the edge blends.
    """

    def __init__(self, network: FeatureNetwork, content_targets: dict, style_targets: dict, weights: LossWeights,
                 layer_weights: dict[str, float] | None = None, mask: np.ndarray | None = None,
                 base: np.ndarray | None = None, scales: LossWeights = LossWeights(1.0, 1.0, 1.0)):
        self.network = network
        self.content_targets = content_targets
        self.style_targets = style_targets
        self.layer_weights = layer_weights
        self.scales = scales
        self.mask = None if mask is None else tf.constant(mask[None, :, :, None], tf.float32)
        self.base = None if base is None else tf.constant(base[None], tf.float32)
        # Variables, not constants, so a run can be re-weighted between steps without retracing.
        self.style_weight = tf.Variable(weights.style, dtype=tf.float32, trainable=False)
        self.content_weight = tf.Variable(weights.content, dtype=tf.float32, trainable=False)
        self.tv_weight = tf.Variable(weights.tv, dtype=tf.float32, trainable=False)

    def compose(self, x):
        """The picture shown for optimized pixels x (x itself without a mask)."""
        return x if self.mask is None else self.base + self.mask * (x - self.base)

    def __call__(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        image = self.compose(x)
        features = self.network(image)
        grams = gram_matrices(features, self.network.style_layers)
        losses = {
            "style": self.style_weight * self.scales.style * style_loss(grams, self.style_targets,
                                                                        self.layer_weights),
            "content": self.content_weight * self.scales.content * content_loss(features, self.content_targets),
            "tv": self.tv_weight * self.scales.tv * total_variation_loss(image),
        }
        losses["total"] = losses["style"] + losses["content"] + losses["tv"]
        return losses

    def set_weights(self, weights: LossWeights) -> None:
        self.style_weight.assign(weights.style)
        self.content_weight.assign(weights.content)
        self.tv_weight.assign(weights.tv)


def loss_weights(settings: Settings, network: FeatureNetwork) -> LossWeights:
    """The settings' weights, with the defaults where a weight is left as None (the style's scaled by strength)."""
    style = settings.style_weight
    if style is None:
        style = network.default_weights(settings.normalize).style * strength_factor(settings.strength)
    return network.weights_or_defaults(style, settings.content_weight, settings.tv_weight, settings.normalize)


_STYLE_CACHE_SIZE = 8  # style pictures remembered per network
_style_cache_lock = threading.Lock()


def style_targets(network: FeatureNetwork, style: np.ndarray) -> dict[str, tf.Tensor]:
    """Gram matrices of a style picture, remembered across runs: re-running with the same style costs nothing."""
    key = (style.shape, hashlib.sha1(style.tobytes()).hexdigest())
    cache = network.style_cache
    with _style_cache_lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    targets = gram_matrices(network(tf.constant(style[None])), network.style_layers)
    with _style_cache_lock:
        cache[key] = targets
        while len(cache) > _STYLE_CACHE_SIZE:
            cache.popitem(last=False)
    return targets


def build_objective(network: FeatureNetwork, content: np.ndarray, style: np.ndarray | list[np.ndarray],
                    weights: LossWeights, blend: tuple[float, ...] = (), layer_weights: dict | None = None,
                    mask: np.ndarray | None = None, normalize: bool = False) -> Objective:
    """The objective for one scale; several styles are blended by averaging their Gram matrices with blend.

    layer_weights None weighs the style layers equally (exactly as the seed). normalize divides every term by
    its value for the photo (term_scales), so a weight means the same for any painting, photo, size and network.
    """
    styles = style if isinstance(style, list) else [style]
    blend = blend or (1.0,) * len(styles)
    per_style = [style_targets(network, picture) for picture in styles]
    blended = {name: tf.add_n([w * targets[name] for w, targets in zip(blend, per_style)]) / sum(blend)
               for name in network.style_layers}
    content_features = network(tf.constant(content[None]))
    content_targets = {name: content_features[name] for name in network.content_layers}
    scales = LossWeights(1.0, 1.0, 1.0)
    if normalize or layer_weights is not None:
        content_grams = gram_matrices(content_features, network.style_layers)
        start = {name: float(tf.reduce_mean(tf.square(content_grams[name] - blended[name])))
                 for name in network.style_layers}
        layer_weights = layer_weights or {name: 1.0 / len(start) for name in start}
        if normalize:
            energy = {name: float(tf.reduce_mean(tf.square(blended[name]))) for name in network.style_layers}
            layer_weights, scales = term_scales(start, energy, layer_weights, content_targets, content)
        else:
            # Shifting weight to deep layers, whose Gram differences are far smaller, would fade the style away:
            # rescale so the photo's style loss stays what equal weights give, and only the balance changes.
            scale = (sum(start.values()) / len(start)) / max(sum(layer_weights[n] * start[n] for n in start), 1e-30)
            layer_weights = {name: weight * scale for name, weight in layer_weights.items()}
    return Objective(network, content_targets, blended, weights, layer_weights, mask,
                     None if mask is None else content, scales)


def term_scales(style_start: dict[str, float], style_energy: dict[str, float], layer_weights: dict[str, float],
                content_targets: dict, content: np.ndarray) -> tuple[dict[str, float], LossWeights]:
    """Per-layer style weights and term scales that make each loss term 1 for the photo itself.

    Gatys et al. fix the scale of each layer's term at 1/(4 N^2 M^2), but a painting's Gram matrices differ by
    orders of magnitude from one painting, layer and network to the next, so one weight is strong for one
    painting and invisible for another. Here each style layer is divided by the photo's own distance to the
    painting at that layer (the photo scores 1 on every layer, the painting 0), the content term by the
    photo's feature energy, and TV by the photo's own total variation. The terms are still mean squares, so
    L-BFGS sees a true objective (unlike per-layer gradient normalisation in the backward pass).
    """
    # A painting (almost) identical to the photo at a layer: its term is measured against the painting's own energy.
    weights = {name: layer_weights[name] / max(style_start[name], 1e-6 * style_energy[name], 1e-30)
               for name in style_start}
    energy = float(tf.add_n([tf.reduce_mean(tf.square(t)) for t in content_targets.values()])) / len(content_targets)
    # A flat photo has almost no TV of its own: count at least 1% of full contrast between neighbours.
    tv = max(float(total_variation_loss(tf.constant(content[None]))), 0.01 * content.shape[0] * content.shape[1])
    return weights, LossWeights(style=1.0, content=1.0 / max(energy, 1e-30), tv=1.0 / tv)


Steer = Callable[[], "LossWeights | None"]
STEP_OVERHEAD = 0.15  # a step's fixed cost, as a share of a full-size step's


def stylize(content: ImageSource, style: ImageSource | Sequence[ImageSource], settings: Settings = Settings(), *,
            network: FeatureNetwork | None = None, mask: np.ndarray | None = None,
            steer: Steer | None = None) -> Iterator[Progress]:
    """Yield Progress records while turning content into a picture in the style of style (one or several).

    The first record comes before any step (the starting picture); then one every settings.preview_every
    steps and always the last. mask (HxW in [0, 1], any size) limits the style to where it is 1. steer is
    asked before every step for new loss weights (None: keep them), so a run can be re-weighted as it goes.
    Closing the generator stops the run at its next step.
    """
    start = time.perf_counter()
    content_side, style_side = decode_sides(settings)
    content = images.load_image(content, "content image", content_side)
    sources = list(style) if isinstance(style, (list, tuple)) else [style]
    styles = [images.load_image(source, f"style image {i + 1}" if len(sources) > 1 else "style image", style_side)
              for i, source in enumerate(sources)]
    if settings.style_blend and len(settings.style_blend) != len(styles):
        raise ValueError(f"style_blend has {len(settings.style_blend)} weights but there are {len(styles)} "
                         "style images: give one weight per style image")
    check_sizes(settings, content.shape[:2], [picture.shape[:2] for picture in styles])
    check_memory(images.scaled_shape(*content.shape[:2], settings.size),
                 [images.scaled_shape(*picture.shape[:2], style_size(settings.size, settings))
                  for picture in styles], [picture.shape[:2] for picture in styles] if settings.colors == "histogram"
                 else [])
    if settings.colors == "histogram":
        styles = [color.match_histogram(picture, content) for picture in styles]
    network = network or load_network(settings.network, settings.weights_path)
    weights = loss_weights(settings, network)
    model = network.in_precision(settings.precision)
    layer_weights = (style_layer_weights(network.style_layers, settings.layer_emphasis)
                     if settings.layer_emphasis else None)  # None: equal weights, exactly as the seed
    notes = (network.note,) if network.note else ()
    schedule = settings.schedule()
    total = settings.total_steps

    # A step's cost grows with its pixel count, plus a fixed part (measured: 0.15, 0.25 and 0.42 s a step at
    # 256, 362 and 512 px), so time left is estimated from work, not from steps.
    costs = [cost for side, steps in schedule for cost in [STEP_OVERHEAD + (side / settings.size) ** 2] * steps]
    done_by_step = np.concatenate([[0.0], np.cumsum(costs) / sum(costs)])

    def record(step: int, x: np.ndarray, losses: dict) -> Progress:
        picture = objective.compose(x[None])[0].numpy() if objective.mask is not None else x
        if settings.colors == "luminance":
            picture = color.keep_luminance(picture, scaled_content)
        return Progress(step, total, images.to_uint8(picture), {k: float(v) for k, v in losses.items()},
                        time.perf_counter() - start, float(done_by_step[step]), network.label, notes)

    step = 0
    picture = None  # the optimized pixels, float HxWx3 at the current scale
    optimizer_state = None  # Adam's moments, carried from one scale to the next
    for side, steps in schedule:
        shape = images.scaled_shape(*content.shape[:2], side)
        scaled_content = images.resize(content, shape, settings.antialias)
        scaled_styles = [images.resize_longer_side(painting, style_size(side, settings), settings.antialias)
                         for painting in styles]
        scaled_mask = None if mask is None else images.resize(np.asarray(mask, np.float32)[..., None], shape)[..., 0]
        objective = build_objective(model, scaled_content, scaled_styles, weights, settings.style_blend,
                                    layer_weights, scaled_mask, settings.normalize)
        picture = (initial_picture(settings, scaled_content, scaled_styles[0]) if picture is None
                   else images.resize(picture, shape, antialias=False))
        if step == 0:
            last_good = record(0, picture, {})
            yield last_good
        remaining = steps
        while remaining:
            if settings.optimizer == "adam":
                carried = optimizer_state() if optimizer_state else None
                steps_iter = adam_steps(objective, picture, remaining, settings.learning_rate, carried)
            else:
                steps_iter = lbfgs_steps(objective, picture, remaining)
            try:
                for picture_now, losses, optimizer_state in steps_iter:
                    step += 1
                    remaining -= 1
                    if losses and not math.isfinite(float(losses["total"])):
                        raise LossNotFinite(step, float(losses["total"]), last_good)
                    if step % settings.preview_every == 0 or step == total:
                        last_good = record(step, picture_now(), losses)
                        yield last_good
                    steered = steer() if steer and remaining else None
                    if steered is not None and steered != weights:
                        steering = (f"Weights changed at step {step}: style {steered.style:.3g}, "
                                    f"content {steered.content:.3g}, TV {steered.tv:.3g}.")
                        notes = (network.note, steering) if network.note else (steering,)
                        weights = steered
                        objective.set_weights(weights)
                        if settings.optimizer == "lbfgs":
                            break  # its curvature memory describes the old objective: restart from here
            finally:
                steps_iter.close()
            picture = picture_now()


class LossNotFinite(ValueError):
    """The loss turned NaN or infinite: the run stops; .last is the last record with a finite loss, to keep."""

    def __init__(self, step: int, value: float, last: Progress):
        super().__init__(f"the loss became {value} at step {step}, so the run stopped (the picture from step "
                         f"{last.step} is kept): try a larger size or style scale, or smaller weights")
        self.last = last


DECODE_MARGIN = 2  # uploads are decoded to at most this multiple of the side they are used at


def style_size(side: int, settings: Settings) -> int:
    """The painting's longer side for an output whose longer side is side."""
    return max(images.MIN_SIDE, round(side * settings.style_scale))


def decode_sides(settings: Settings) -> tuple[int, int]:
    """The longest sides worth decoding the photo and the paintings at: more pixels are resized away anyway."""
    return DECODE_MARGIN * settings.size, DECODE_MARGIN * style_size(settings.size, settings)


# The deepest layers read (block5) sit behind four 2x2 poolings: a shorter side under 16 px leaves them no pixels,
# which ends in a MaxPool error or a 0/0 Gram matrix (loss NaN).
NETWORK_MIN_SIDE = 16


def check_sizes(settings: Settings, content: tuple[int, int], styles: list[tuple[int, int]]) -> None:
    """Refuse, before any work, a photo or painting whose shorter side at some scale is under NETWORK_MIN_SIDE."""
    smallest = settings.schedule()[0][0]
    pictures = [("the photo", content, smallest)] + [("the painting", shape, style_size(smallest, settings))
                                                       for shape in styles]
    for what, shape, side in pictures:
        scaled = images.scaled_shape(*shape, side)
        if min(scaled) < NETWORK_MIN_SIDE:
            needed = math.ceil(NETWORK_MIN_SIDE * max(shape) / min(shape))
            while min(images.scaled_shape(*shape, needed)) < NETWORK_MIN_SIDE:  # scaled_shape truncates
                needed += 1
            raise ValueError(f"{what} ({shape[1]}x{shape[0]}) scaled to {side} px is {scaled[1]}x{scaled[0]} but its "
                             f"shorter side must be at least {NETWORK_MIN_SIDE} px for the network: use a longer side "
                             f"of at least {needed} px there (size, start size or style scale), or crop it")


# Resident memory per output pixel while optimizing, beyond the loaded process: bench/speed.py measured 1.80 GB
# at 512x341 and 3.53 GB at 1024x683 with the balanced preset (float32 was within 3% of bfloat16).
BYTES_PER_PIXEL = 3300
# Computing a painting's Gram matrices is a forward pass only; it holds block1's two 64-channel float32 maps
# (512 B/px) and the layers read at once, plus TensorFlow's scratch: 1000 B/px is an upper estimate.
STYLE_BYTES_PER_PIXEL = 1000
# Histogram matching sorts each channel of the decoded painting: float32 copies, int64 indices, float64 results.
HISTOGRAM_BYTES_PER_PIXEL = 64
MEMINFO = "/proc/meminfo"
# (limit, usage, stat, reclaimable-cache key) for cgroup v2 and v1: a container's limit, not the host's memory.
CGROUPS = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.stat",
            "inactive_file"),
           ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes",
            "/sys/fs/cgroup/memory/memory.stat", "total_inactive_file"))


def available_memory() -> int | None:
    """Bytes free to this process: the smaller of the machine's MemAvailable and its cgroup's limit minus its use.

    Inactive page cache counts as free in a cgroup, as the kernel reclaims it first (docker stats does the same).
    None when neither can be read (not Linux).
    """
    figures = []
    meminfo = _read_lines(MEMINFO)
    available = [int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:")]
    figures += available[:1]
    for limit_file, usage_file, stat_file, inactive_key in CGROUPS:
        limit = _read_number(limit_file)
        if limit is None or limit >= 2**60:  # v2 says "max", v1 a huge number, for no limit
            continue
        inactive = [int(line.split()[1]) for line in _read_lines(stat_file) if line.split()[:1] == [inactive_key]]
        figures.append(max(0, limit - (_read_number(usage_file) or 0) + sum(inactive[:1])))
    return min(figures) if figures else None


def _read_lines(path: str) -> list[str]:
    try:
        with open(path) as file:
            return file.readlines()
    except OSError:
        return []


def _read_number(path: str) -> int | None:
    lines = _read_lines(path)
    return int(lines[0]) if lines and lines[0].strip().isdigit() else None


def check_memory(shape: tuple[int, int], style_shapes: Sequence[tuple[int, int]] = (),
                 histogram_shapes: Sequence[tuple[int, int]] = ()) -> None:
    """Refuse, before any work, a run that would not fit in the free memory: the optimized picture at shape,
    each painting's Gram pass at its scaled shape, and histogram matching at the decoded paintings' shapes."""
    if gpu_present():
        return  # GPU memory is another budget; TensorFlow reports its own out-of-memory error there
    available = available_memory()
    if available is None:
        return  # no reliable figure: let the run try
    output = shape[0] * shape[1] * BYTES_PER_PIXEL
    needed = (output + sum(h * w for h, w in style_shapes) * STYLE_BYTES_PER_PIXEL
              + sum(h * w for h, w in histogram_shapes) * HISTOGRAM_BYTES_PER_PIXEL)
    if needed > available:
        fits = int(math.sqrt(available * output / needed / BYTES_PER_PIXEL * max(shape) / min(shape)))
        raise ValueError(f"a {shape[1]}x{shape[0]} picture needs about {needed / 2**30:.1f} GB but this machine has "
                         f"{available / 2**30:.1f} GB free: choose a size of at most {fits} px"
                         + (" or a smaller style scale" if style_shapes else ""))


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
        from .fast.instant import instant_stylize  # here: fast/ imports this module, and only this start needs it
        return instant_stylize(content, style, strength=share).astype(np.float32) / 255.0
    if settings.init == "noise":
        return np.random.default_rng(settings.seed).uniform(0, 1, content.shape).astype(np.float32)
    if settings.init == "style":
        return images.resize(style, content.shape[:2], antialias=True)
    return content.copy()


def adam_steps(objective: Objective, picture: np.ndarray, steps: int, learning_rate: float, carried=None):
    """Adam on the pixels with clipping to [0, 1] after each step, as the seed; yields after every step.

    Moving to a larger scale, Adam's moments are resized and carried over with its step count: restarting
    with fresh moments makes the first steps full-size jumps that undo what the smaller scale achieved.
    """
    image = tf.Variable(picture[None], dtype=tf.float32)
    # Keras 3's Adam update, written out: a keras.optimizers.Adam made per run and applied inside tf.function
    # kept about 1 MB a run alive (bench/soak.py: +6 MB a run at 128 px), which a hosted app can't afford.
    iterations = tf.Variable(0, dtype=tf.int64, trainable=False)
    moments = [tf.Variable(tf.zeros_like(image), trainable=False) for _ in range(2)]  # first and second
    if carried is not None:
        old_iterations, old_moments = carried
        iterations.assign(old_iterations)
        for new, old in zip(moments, old_moments):
            new.assign(tf.image.resize(old, image.shape[1:3], method="bilinear"))
    beta_1, beta_2, epsilon = 0.99, 0.999, 1e-7

    @tf.function(autograph=False)  # plain Python, nothing to convert
    def step():
        with tf.GradientTape() as tape:
            losses = objective(image)
        gradient = tape.gradient(losses["total"], image)
        local_step = tf.cast(iterations + 1, tf.float32)
        alpha = learning_rate * tf.sqrt(1 - beta_2 ** local_step) / (1 - beta_1 ** local_step)
        first, second = moments
        first.assign_add((gradient - first) * (1 - beta_1))
        second.assign_add((tf.square(gradient) - second) * (1 - beta_2))
        image.assign_sub(first * alpha / (tf.sqrt(second) + epsilon))
        iterations.assign_add(1)
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return losses

    def state():
        return int(iterations.numpy()), [tf.convert_to_tensor(v) for v in moments]

    for _ in range(steps):
        losses = step()
        yield (lambda: image.numpy()[0]), losses, state


# L-BFGS's history of gradient pairs. Measured at 512 px (bench/speed.py): 5 pairs cost 0.41 s an iteration and
# reached the seed's objective soonest; 20 pairs cost 0.53 s and 50 pairs 0.7 s, for no better progress per step.
LBFGS_MEMORY = 5


def lbfgs_steps(objective: Objective, picture: np.ndarray, steps: int):
    """L-BFGS-B (scipy) on the pixels, with the [0, 1] box as bounds instead of clipping; yields each iteration.

    scipy's loop blocks, so it runs in a thread that hands each iteration over a queue; closing this
    generator makes the next callback stop the optimizer.
    """
    shape = (1, *picture.shape)

    @tf.function(autograph=False)
    def losses_and_gradient(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            losses = objective(image)
        return losses, tape.gradient(losses["total"], image)

    last = {}

    def value_and_gradient(x: np.ndarray):
        losses, gradient = losses_and_gradient(tf.constant(x.reshape(shape), tf.float32))
        last["losses"] = losses
        return float(losses["total"]), gradient.numpy().astype(np.float64).ravel()

    handover: queue.Queue = queue.Queue()
    resume = threading.Semaphore(0)  # the worker waits here after each iteration until the next is asked for
    stop = threading.Event()

    def callback(intermediate_result):
        handover.put(("step", intermediate_result.x.astype(np.float32).reshape(picture.shape), last["losses"]))
        resume.acquire()
        if stop.is_set():
            raise StopIteration

    def run():
        try:
            scipy.optimize.minimize(value_and_gradient, picture.astype(np.float64).ravel(), jac=True,
                                    method="L-BFGS-B", bounds=scipy.optimize.Bounds(0.0, 1.0), callback=callback,
                                    options={"maxiter": steps, "maxfun": steps * 3, "maxcor": LBFGS_MEMORY})
            handover.put(("done", None, None))
        except BaseException as error:  # surfaced in the consumer's thread
            handover.put(("error", error, None))

    worker = threading.Thread(target=run, daemon=True, name="lbfgs")
    worker.start()
    try:
        current, losses, finished = picture, {}, False
        for step in range(steps):
            if not finished:
                if step:
                    resume.release()  # only now compute the next iteration: nothing runs while the caller works
                kind, payload, step_losses = handover.get()
                if kind == "error":
                    raise payload
                if kind == "done":  # converged early: the remaining steps report the final picture
                    finished = True
                else:
                    current, losses = payload, step_losses
            yield (lambda: current), losses, None
    finally:
        stop.set()
        resume.release()
        worker.join()
