"""The optimizers that move a picture's pixels, behind one small interface: Adam (the seed's) and L-BFGS."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator

import numpy as np
import tensorflow as tf
from scipy.optimize import _lbfgsb  # L-BFGS-B's compiled routine; see lbfgsb_iterates

from ..core.settings import Settings
from .networks import FeatureNetwork
from .objective import Objective, losses_of


class PixelOptimizer(ABC):
    """Optimizes pixels in [0, 1] against an Objective, one yield per step; one instance serves a whole run."""

    # Whether re-weighting the objective mid-run needs a fresh start (the loop restarts from the current picture).
    restart_when_reweighted = False

    @abstractmethod
    def steps(
        self, objective: Objective, picture: np.ndarray, count: int
    ) -> Generator[dict[str, tf.Tensor], None, None]:
        """Take up to count steps from picture (HxWx3 float), yielding each step's losses (those of its input).

        Closing the generator stops it; current_picture() is then the last step's picture.
        """

    @abstractmethod
    def current_picture(self) -> np.ndarray:
        """The pixels after the latest step, HxWx3 float in [0, 1]."""


class Adam(PixelOptimizer):
    """Adam on the pixels with clipping to [0, 1] after each step, as the seed.

    Moving to a larger scale, Adam's moments are resized and carried over with its step count: restarting
    with fresh moments makes the first steps full-size jumps that undo what the smaller scale achieved.
    """

    BETA_1, BETA_2, EPSILON = 0.99, 0.999, 1e-7  # the seed's

    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate
        self._image: tf.Variable | None = None
        self._carried: tuple[int, list[tf.Tensor]] | None = None  # step count and moments of the previous call

    def current_picture(self) -> np.ndarray:
        assert self._image is not None  # asked only once steps() has started (the loop asks after its steps)
        return self._image.numpy()[0]

    def steps(
        self, objective: Objective, picture: np.ndarray, count: int
    ) -> Generator[dict[str, tf.Tensor], None, None]:
        image = self._image = tf.Variable(picture[None], dtype=tf.float32)
        # Keras 3's Adam update, written out: a keras.optimizers.Adam made per run and applied inside tf.function
        # kept about 1 MB a run alive (bench/soak.py: +6 MB a run at 128 px), which a hosted app can't afford.
        iterations = tf.Variable(0, dtype=tf.int64, trainable=False)
        moments = [tf.Variable(tf.zeros_like(image), trainable=False) for _ in range(2)]  # first and second
        if self._carried is not None:
            old_iterations, old_moments = self._carried
            iterations.assign(old_iterations)
            for new, old in zip(moments, old_moments):
                new.assign(tf.image.resize(old, image.shape[1:3], method="bilinear"))
        learning_rate, beta_1, beta_2, epsilon = self.learning_rate, self.BETA_1, self.BETA_2, self.EPSILON

        @tf.function(autograph=False)  # plain Python, nothing to convert
        def step(arguments):  # an argument, so steering's new weights reach the traced step
            with tf.GradientTape() as tape:
                losses = losses_of(objective.network, image, arguments)
            gradient = tape.gradient(losses["total"], image)
            local_step = tf.cast(iterations + 1, tf.float32)
            alpha = learning_rate * tf.sqrt(1 - beta_2**local_step) / (1 - beta_1**local_step)
            first, second = moments
            first.assign_add((gradient - first) * (1 - beta_1))
            second.assign_add((tf.square(gradient) - second) * (1 - beta_2))
            image.assign_sub(first * alpha / (tf.sqrt(second) + epsilon))
            iterations.assign_add(1)
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
            return losses

        try:
            for _ in range(count):
                yield step(objective.arguments())
        finally:
            self._carried = int(iterations.numpy()), [tf.convert_to_tensor(v) for v in moments]


# L-BFGS's history of gradient pairs. Measured at 512 px (bench/speed.py): 5 pairs cost 0.41 s an iteration and
# reached the seed's objective soonest; 20 pairs cost 0.53 s and 50 pairs 0.7 s, for no better progress per step.
LBFGS_MEMORY = 5


class LBFGS(PixelOptimizer):
    """L-BFGS-B (scipy's) on the pixels, with the [0, 1] box as bounds instead of clipping; one step per iteration.
    Converged early, the remaining steps repeat the final picture and losses."""

    # Its curvature memory describes the objective it was built on.
    restart_when_reweighted = True

    def __init__(self):
        self._current: np.ndarray | None = None

    def current_picture(self) -> np.ndarray:
        assert self._current is not None  # asked only once steps() has started (the loop asks after its steps)
        return self._current

    def steps(
        self, objective: Objective, picture: np.ndarray, count: int
    ) -> Generator[dict[str, tf.Tensor], None, None]:
        shape = (1, *picture.shape)
        self._current = picture
        losses_and_gradient, arguments = traced_losses_and_gradient(objective.network), objective.arguments()
        last = {}

        def value_and_gradient(x: np.ndarray):
            losses, gradient = losses_and_gradient(tf.constant(x.reshape(shape), tf.float32), arguments)
            last["losses"] = losses
            return float(losses["total"]), gradient.numpy().astype(np.float64).ravel()

        iterates = lbfgsb_iterates(
            value_and_gradient,
            picture.astype(np.float64).ravel(),
            LBFGS_MEMORY,
            max_iterations=count,
            max_evaluations=3 * count,
        )
        losses = {}
        for _ in range(count):
            x = next(iterates, None)
            if x is not None:  # None: converged, and the last picture stands
                self._current, losses = x.astype(np.float32).reshape(picture.shape), last["losses"]
            yield losses


# L-BFGS-B's defaults in scipy.optimize.minimize: ftol 2.2e-9 as a multiple of machine epsilon, gtol, line-search steps.
FACTR, PGTOL, MAX_LINE_SEARCH = 1e7, 1e-5, 20


def lbfgsb_iterates(
    value_and_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    memory: int,
    max_iterations: int,
    max_evaluations: int,
) -> Iterator[np.ndarray]:
    """Yield L-BFGS-B's iterates (x, updated in place: copy it) for f, ∇f = value_and_gradient(x), every variable
    in [0, 1]; stops after max_iterations, once more than max_evaluations were made, or when converged.

    This is scipy.optimize.minimize(method="L-BFGS-B")'s own loop around the same compiled routine (setulb), with
    the same defaults and the same iterates (tests/test_optimizers.py compares them). minimize first builds each
    variable's bounds in Python loops: 1-3.5 s a call at 512 px (590k variables), at every scale of every run, which
    a 15 s budget can't spare; here one vectorised box. Driven as a generator, it also needs no thread.
    """
    n = x0.size
    x = np.clip(np.asarray(x0, np.float64), 0.0, 1.0)
    f, g = np.array(0.0, np.float64), np.zeros(n, np.float64)
    lower, upper, both_bounded = np.zeros(n), np.ones(n), np.full(n, 2, np.int32)
    work = np.zeros(2 * memory * n + 5 * n + 11 * memory * memory + 8 * memory, np.float64)
    integer_work = np.zeros(3 * n, np.int32)
    task, line_task = np.zeros(2, np.int32), np.zeros(2, np.int32)
    logical_state, integer_state, float_state = np.zeros(4, np.int32), np.zeros(44, np.int32), np.zeros(29)
    iterations = evaluations = 0
    while iterations < max_iterations:
        _lbfgsb.setulb(
            memory,
            x,
            lower,
            upper,
            both_bounded,
            f,
            g,
            FACTR,
            PGTOL,
            work,
            integer_work,
            task,
            logical_state,
            integer_state,
            float_state,
            MAX_LINE_SEARCH,
            line_task,
        )
        if task[0] == 3:  # it wants f and g at x
            value, gradient = value_and_gradient(x)
            f, g = np.array(value, np.float64), np.asarray(gradient, np.float64)
            evaluations += 1
        elif task[0] == 1:  # a new iterate
            iterations += 1
            yield x
            if evaluations > max_evaluations:
                return
        else:  # converged, or it can't make progress
            return


def traced_losses_and_gradient(network: FeatureNetwork):
    """The losses and their gradient for a network, traced once and kept with it: a trace took 0.3-1 s at each
    scale of each run (bfloat16, 256-512 px), a tenth of a quick run. Shapes are generalised after the second size seen
    (reduce_retracing), so every later scale and run reuses the same graph; a mask is a second trace."""

    return traced_gradient(network, losses_of, "losses_and_gradient")


def traced_gradient(network: FeatureNetwork, losses: Callable, name: str):
    """losses(network, pixels, arguments) and the gradient of its "total", traced once per network under name."""

    def losses_and_gradient(image, arguments):
        with tf.GradientTape() as tape:
            tape.watch(image)
            terms = losses(network, image, arguments)
        return terms, tape.gradient(terms["total"], image)

    return network.traced.get_or_make(
        name, lambda: tf.function(losses_and_gradient, autograph=False, reduce_retracing=True)
    )


def make_optimizer(settings: Settings) -> PixelOptimizer:
    """The optimizer settings name, fresh for one run."""
    return Adam(settings.learning_rate) if settings.optimizer == "adam" else LBFGS()
