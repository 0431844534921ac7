"""Training a transformation network for one style (Johnson et al. 2016): settings, photos, the loop, checkpoints."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ..core import images
from ..core.cache import BoundedCache
from ..core.files import atomic_path
from ..core.images import ImageSource
from ..core.settings import NETWORKS, WEIGHT_RANGE, check_choice, check_range
from ..gatys.losses import content_loss, gram_matrices, style_loss, total_variation_loss, weighted_sum
from ..gatys.networks import FeatureNetwork, load_network
from ..gatys.objective import style_targets
from ..gatys.weights import LossWeights, weights_or_defaults
from .transformer import RESIDUAL_BLOCKS_RANGE, WIDTH_RANGE, build_transformer, save_transformer

TRAIN_SIZE_RANGE = (32, 1024)
BATCH_SIZE_RANGE = (1, 64)
TRAIN_STEPS_RANGE = (1, 1_000_000)
LEARNING_RATE_RANGE = (1e-6, 1e-1)
EVERY_RANGE = (0, 1_000_000)  # 0 turns previews or checkpoints off
DECODED_CACHE = 128  # photos kept decoded (as uint8, shrunk): a small folder is decoded once, a big one streams


class NoTrainingImages(ValueError):
    """The photo folder is missing, empty, or holds nothing readable; the message says which."""


@dataclass(frozen=True)
class TrainSettings:
    """One training run's settings; the defaults are Johnson et al.'s where the paper gives one."""

    network: str = "auto"  # the feature network whose losses train it, one of NETWORKS
    size: int = 256  # side of the square photo crops it trains on
    style_size: int | None = None  # longer side the style picture is scaled to; None: the same as size
    batch_size: int = 4  # photos per step
    steps: int = 40_000  # the paper's two epochs of COCO at batch 4; a few thousand already look styled
    learning_rate: float = 1e-3  # Adam's step size
    style_weight: float | None = None  # None: the feature network's default (weights.LOSS_WEIGHTS)
    content_weight: float | None = None  # None: the feature network's default
    tv_weight: float | None = None  # None: the feature network's default
    width: float = 0.5  # filter multiplier; 0.5 keeps a 2-core CPU within 0.5 s at 512 px and 5 webcam fps (paper: 1)
    residual_blocks: int = 5  # residual blocks of a new network
    preview_every: int = 100  # save a preview picture every N steps; 0: never
    checkpoint_every: int = 500  # save the network and the training state every N steps; 0: only at the end
    seed: int = 0  # crops, flips and photo order

    def __post_init__(self) -> None:
        check_choice("network", self.network, NETWORKS)
        check_range("size", self.size, TRAIN_SIZE_RANGE, integer=True)
        if self.style_size is not None:
            check_range("style_size", self.style_size, TRAIN_SIZE_RANGE, integer=True)
        check_range("batch_size", self.batch_size, BATCH_SIZE_RANGE, integer=True)
        check_range("steps", self.steps, TRAIN_STEPS_RANGE, integer=True)
        check_range("learning_rate", self.learning_rate, LEARNING_RATE_RANGE)
        for name in ("style_weight", "content_weight", "tv_weight"):
            if getattr(self, name) is not None:
                check_range(name, getattr(self, name), WEIGHT_RANGE)
        check_range("width", self.width, WIDTH_RANGE)
        check_range("residual_blocks", self.residual_blocks, RESIDUAL_BLOCKS_RANGE, integer=True)
        check_range("preview_every", self.preview_every, EVERY_RANGE, integer=True)
        check_range("checkpoint_every", self.checkpoint_every, EVERY_RANGE, integer=True)

    def replace(self, **changes) -> TrainSettings:
        return dataclasses.replace(self, **changes)

    def loss_weights(self, network: FeatureNetwork) -> LossWeights:
        return weights_or_defaults(network.name, self.style_weight, self.content_weight, self.tv_weight)


@dataclass(frozen=True)
class TrainProgress:
    """One training step done: its losses, speed, and the preview or checkpoint it wrote, if any."""

    step: int
    total: int
    losses: dict[str, float]  # style, content, tv, total, averaged over the batch
    images_per_second: float  # photos through the step, over the step's wall time
    elapsed: float  # seconds since the run started
    skipped: int  # files of the folder that could not be read, so far
    preview: np.ndarray | None = None  # uint8 [photo | stylised] when a preview was made at this step
    checkpoint: Path | None = None  # the .keras file written at this step
    notes: tuple[str, ...] = field(default=())

    @property
    def done(self) -> bool:
        return self.step == self.total


class PhotoFolder:
    """The photos of a folder (and its subfolders), decoded when first needed; unreadable files skipped, counted."""

    def __init__(self, folder: str | os.PathLike, size: int, seed: int = 0):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise NoTrainingImages(f"images folder {str(self.folder)!r} does not exist or is not a folder")
        try:
            self.files = sorted(p for p in self.folder.rglob("*") if p.is_file() and not p.name.startswith("."))
        except OSError as error:
            raise NoTrainingImages(f"images folder {str(self.folder)!r} cannot be read ({error.strerror})") from None
        if not self.files:
            raise NoTrainingImages(
                f"images folder {str(self.folder)!r} has no files: put photos (JPEG, PNG, ...) in it"
            )
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.unreadable: set[Path] = set()
        self._decoded: BoundedCache[np.ndarray] = BoundedCache(DECODED_CACHE)
        self._order: list[int] = []

    def read(self, path: Path) -> np.ndarray | None:
        """The photo as uint8, shrunk to at most twice the crop size on its shorter side; None if unreadable."""
        if path in self.unreadable:
            return None
        try:
            return self._decoded.get_or_make(path, lambda: self._decode(path))
        except (ValueError, OSError):  # not a picture, truncated, too small, unreadable: skip it, count it
            self.unreadable.add(path)
            return None

    def _decode(self, path: Path) -> np.ndarray:
        picture = images.load_image(path, f"training photo {path.name}")
        height, width = picture.shape[:2]
        if min(height, width) > 2 * self.size:  # crops never need more; decoding and cropping get cheap
            picture = images.resize(
                picture, images.scaled_shape(height, width, 2 * self.size * max(height, width) // min(height, width))
            )
        return images.to_uint8(picture)

    def first_readable(self) -> np.ndarray:
        """The first photo that decodes (the preview's subject); NoTrainingImages if none of them does."""
        for path in self.files:
            picture = self.read(path)
            if picture is not None:
                return picture
        raise NoTrainingImages(
            f"images folder {str(self.folder)!r} has {len(self.files)} files but none is a "
            "readable picture (JPEG, PNG or WebP)"
        )

    def next_photo(self) -> np.ndarray:
        """The next readable photo in a shuffled order that starts over each epoch."""
        while True:
            if len(self.unreadable) == len(self.files):
                raise NoTrainingImages(
                    f"images folder {str(self.folder)!r}: none of its {len(self.files)} files is a readable picture"
                )
            if not self._order:
                self._order = list(self.rng.permutation(len(self.files)))
            picture = self.read(self.files[self._order.pop()])
            if picture is not None:
                return picture

    def random_crop(self, picture: np.ndarray) -> np.ndarray:
        """A square crop of random scale and place, flipped half the time, resized to size: float size x size x 3.

        A few photos then give thousands of different training pictures.
        """
        height, width = picture.shape[:2]
        shorter = min(height, width)
        smallest = min(shorter, max(self.size // 2, shorter // 4))  # at most 2x zoom in, at least 1/4 of the photo
        side = int(self.rng.integers(smallest, shorter + 1))
        top = int(self.rng.integers(0, height - side + 1))
        left = int(self.rng.integers(0, width - side + 1))
        crop = picture[top : top + side, left : left + side]
        if self.rng.random() < 0.5:
            crop = crop[:, ::-1]
        return images.resize(crop.astype(np.float32) / 255.0, (self.size, self.size))

    def batch(self, batch_size: int) -> np.ndarray:
        return np.stack([self.random_crop(self.next_photo()) for _ in range(batch_size)])


def center_square(picture: np.ndarray, size: int) -> np.ndarray:
    """The middle square of a uint8 photo, resized to size x size float: the preview's fixed subject."""
    height, width = picture.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return images.resize(picture[top : top + side, left : left + side].astype(np.float32) / 255.0, (size, size))


def state_path(output: Path) -> Path:
    """Where the optimizer and the step are kept beside the network, for --resume."""
    return output.with_name(output.name + ".state.npz")


def preview_path(output: Path) -> Path:
    return output.with_name(output.stem + ".preview.png")


def _check_output(output: Path) -> None:
    if output.suffix != ".keras":
        raise ValueError(f"output is {str(output)!r} but must be a file name ending in .keras")


class _Trainer:
    """The network, its optimizer and the compiled step; kept apart from the loop so the loop reads plainly."""

    def __init__(
        self,
        transformer: keras.Model,
        network: FeatureNetwork,
        style_grams: dict,
        weights: LossWeights,
        learning_rate: float,
    ):
        self.transformer = transformer
        self.network = network
        self.style_grams = style_grams
        self.weights = weights
        self.optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
        self.optimizer.build(transformer.trainable_variables)  # now, or the first step traces twice
        self.step = tf.function(self._step)

    def losses(self, photos: tf.Tensor, styled: tf.Tensor) -> dict[str, tf.Tensor]:
        """The Gatys loop's loss terms, with the photos' own features as content targets.

        Each term is a mean over the batch (the TV sum is divided by the batch size), so the feature network's
        default weights mean for one training picture what they mean for one picture in the Gatys loop.
        """
        targets = self.network(photos)
        content_targets = {name: tf.stop_gradient(targets[name]) for name in self.network.content_layers}
        features = self.network(styled)
        grams = gram_matrices(features, self.network.style_layers)
        batch = tf.cast(tf.shape(photos)[0], tf.float32)
        return weighted_sum(
            {
                "style": style_loss(grams, self.style_grams),
                "content": content_loss(features, content_targets),
                "tv": total_variation_loss(styled) / batch,
            },
            dataclasses.asdict(self.weights),
        )

    def _step(self, photos: tf.Tensor) -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            terms = self.losses(photos, self.transformer(photos, training=True))
        variables = self.transformer.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(terms["total"], variables), variables))
        return terms

    def save_state(self, path: Path, step: int, rng: np.random.Generator, settings: TrainSettings) -> None:
        arrays = {f"optimizer_{i}": v.numpy() for i, v in enumerate(self.optimizer.variables)}
        meta = {"step": step, "rng": rng.bit_generator.state, "settings": dataclasses.asdict(settings)}
        with atomic_path(path, suffix=".part.npz") as temporary:  # np.savez would add .npz to any other ending
            np.savez(temporary, meta=np.array(json.dumps(meta)), **arrays)

    def load_state(self, path: Path, rng: np.random.Generator) -> int:
        with np.load(path) as saved:
            meta = json.loads(str(saved["meta"]))
            values = [saved[f"optimizer_{i}"] for i in range(len(self.optimizer.variables))]
        for variable, value in zip(self.optimizer.variables, values):
            if tuple(variable.shape) != value.shape:
                raise ValueError(f"training state {str(path)!r} does not match the network beside it")
            variable.assign(value)
        rng.bit_generator.state = meta["rng"]
        return int(meta["step"])


def train(
    style: ImageSource,
    images_dir: str | os.PathLike,
    output: str | os.PathLike,
    settings: TrainSettings = TrainSettings(),
    *,
    network: FeatureNetwork | None = None,
    resume: bool = False,
) -> Generator[TrainProgress, None, None]:
    """Train a transformation network for the style on the folder's photos, yielding a record after every step.

    Writes output (one .keras file) every settings.checkpoint_every steps and at the end, with the optimizer's
    state beside it (output.state.npz) for resume=True, and a preview picture (output's stem + .preview.png)
    every settings.preview_every steps. Raises NoTrainingImages before any work if the folder has no photo.
    """
    start = time.perf_counter()
    output = Path(output)
    _check_output(output)
    style_picture = images.load_image(style, "style image")
    photos = PhotoFolder(images_dir, settings.size, settings.seed)
    preview_subject = center_square(photos.first_readable(), settings.size)
    network = network or load_network(settings.network)
    notes = (network.note,) if network.note else ()
    style_side = settings.style_size or settings.size
    style_grams = style_targets(network, images.resize_longer_side(style_picture, style_side))

    if resume:
        if not output.is_file() or not state_path(output).is_file():
            raise ValueError(
                f"cannot resume: {str(output)!r} and {str(state_path(output))!r} must both exist "
                "(they are written at each checkpoint)"
            )
        transformer = keras.saving.load_model(output, compile=False)  # not load_transformer's shared copy
    else:
        keras.utils.set_random_seed(settings.seed)
        transformer = build_transformer(settings.width, settings.residual_blocks)
    trainer = _Trainer(transformer, network, style_grams, settings.loss_weights(network), settings.learning_rate)
    first_step = trainer.load_state(state_path(output), photos.rng) if resume else 0
    if first_step >= settings.steps:
        raise ValueError(
            f"cannot resume: {str(output)!r} has already trained {first_step} steps, and steps is "
            f"{settings.steps}: ask for more steps"
        )

    def checkpoint(step: int) -> Path:
        save_transformer(transformer, output)
        trainer.save_state(state_path(output), step, photos.rng, settings)
        return output

    for step in range(first_step + 1, settings.steps + 1):
        step_start = time.perf_counter()
        terms = trainer.step(tf.constant(photos.batch(settings.batch_size)))
        losses = {name: float(value) for name, value in terms.items()}
        speed = settings.batch_size / (time.perf_counter() - step_start)
        preview = saved = None
        if settings.preview_every and (step % settings.preview_every == 0 or step == settings.steps):
            preview = make_preview(transformer, preview_subject)
            images.save_png(preview_path(output), preview)
        if step == settings.steps or (settings.checkpoint_every and step % settings.checkpoint_every == 0):
            saved = checkpoint(step)
        yield TrainProgress(
            step,
            settings.steps,
            losses,
            speed,
            time.perf_counter() - start,
            len(photos.unreadable),
            preview,
            saved,
            notes,
        )


def make_preview(transformer: keras.Model, subject: np.ndarray) -> np.ndarray:
    """[photo | stylised photo] side by side, uint8."""
    styled = transformer(tf.constant(subject[None]), training=False)
    return np.concatenate([images.to_uint8(subject), images.to_uint8(styled)], axis=1)
