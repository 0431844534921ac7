"""The optimizers that move a picture's pixels, behind one small interface: Adam (the seed's) and L-BFGS."""

from __future__ import annotations

import queue
import threading
from abc import ABC, abstractmethod
from typing import Iterator

import numpy as np
import scipy.optimize
import tensorflow as tf

from .objective import Objective
from .settings import Settings


class PixelOptimizer(ABC):
    """Optimizes pixels in [0, 1] against an Objective, one yield per step; one instance serves a whole run."""

    # Whether re-weighting the objective mid-run needs a fresh start (the loop restarts from the current picture).
    restart_when_reweighted = False

    @abstractmethod
    def steps(self, objective: Objective, picture: np.ndarray, count: int) -> Iterator[dict[str, tf.Tensor]]:
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
        return self._image.numpy()[0]

    def steps(self, objective: Objective, picture: np.ndarray, count: int) -> Iterator[dict[str, tf.Tensor]]:
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

        try:
            for _ in range(count):
                yield step()
        finally:
            self._carried = int(iterations.numpy()), [tf.convert_to_tensor(v) for v in moments]


# L-BFGS's history of gradient pairs. Measured at 512 px (bench/speed.py): 5 pairs cost 0.41 s an iteration and
# reached the seed's objective soonest; 20 pairs cost 0.53 s and 50 pairs 0.7 s, for no better progress per step.
LBFGS_MEMORY = 5


class LBFGS(PixelOptimizer):
    """L-BFGS-B (scipy) on the pixels, with the [0, 1] box as bounds instead of clipping.

    scipy's loop blocks, so it runs in a thread that hands each iteration over a queue; closing the steps
    generator makes the next callback stop the optimizer. Converged early, the remaining steps repeat the
    final picture and losses.
    """

    # Its curvature memory describes the objective it was built on.
    restart_when_reweighted = True

    def __init__(self):
        self._current: np.ndarray | None = None

    def current_picture(self) -> np.ndarray:
        return self._current

    def steps(self, objective: Objective, picture: np.ndarray, count: int) -> Iterator[dict[str, tf.Tensor]]:
        shape = (1, *picture.shape)
        self._current = picture

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
                                        options={"maxiter": count, "maxfun": count * 3, "maxcor": LBFGS_MEMORY})
                handover.put(("done", None, None))
            except BaseException as error:  # surfaced in the consumer's thread
                handover.put(("error", error, None))

        worker = threading.Thread(target=run, daemon=True, name="lbfgs")
        worker.start()
        try:
            losses, finished = {}, False
            for step in range(count):
                if not finished:
                    if step:
                        resume.release()  # only now compute the next iteration: nothing runs while the caller works
                    kind, payload, step_losses = handover.get()
                    if kind == "error":
                        raise payload
                    if kind == "done":  # converged early: the remaining steps report the final picture
                        finished = True
                    else:
                        self._current, losses = payload, step_losses
                yield losses
        finally:
            stop.set()
            resume.release()
            worker.join()


def make_optimizer(settings: Settings) -> PixelOptimizer:
    """The optimizer settings name, fresh for one run."""
    return Adam(settings.learning_rate) if settings.optimizer == "adam" else LBFGS()
