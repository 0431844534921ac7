"""The work itself: networks loaded once per process (or Ray actor), then one photo or video segment per call."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import images
from ..core.errors import one_line
from ..fast.bundled import THREADS_ENV, builtin_stylize, builtin_weights, load_bundled
from ..fast.instant import load_instant
from .items import PHOTO, BatchSettings, Result, WorkItem

if TYPE_CHECKING:
    from ..video import StylizerFactory


@dataclass(frozen=True)
class Style:
    """The style every item gets: a painting through the instant network, or a built-in style (or blend)."""

    painting: bytes = b""  # the painting file's bytes: they travel to every worker, a path might not exist there
    painting_name: str = ""  # recorded in each result's metadata
    builtin: str | None = None  # a built-in style "7" or blend "3:0.6,12:0.4" instead of a painting
    instant_model: str | None = None  # as stylize-instant's --instant-model; a folder must exist on every worker

    def check(self) -> None:
        """ValueError for a painting that can't be decoded or a built-in style that doesn't exist, before any work."""
        if self.builtin is not None:
            builtin_weights(self.builtin)
        else:
            images.load_image(self.painting, "style image")


def limit_threads(threads: int) -> None:
    """TensorFlow's and onnxruntime's thread pools sized to the CPUs this process was given (a Ray actor's).

    TensorFlow fixes its pools when it first runs anything, so this must come before: importing it is fine.
    """
    import tensorflow as tf

    os.environ[THREADS_ENV] = str(threads)  # read when bundled.py opens its onnxruntime sessions
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already ran in this process: its pools stay as they are
        pass


class Stylist:
    """Turns work items into results, each on its own: a bad file gives a Result with its error, never a raise."""

    def __init__(self, style: Style, settings: BatchSettings, clip: Callable[[str], Path], threads: int | None = None):
        """clip(name) gives the path of a video this process can read; threads: the CPUs it may use (None: all)."""
        if threads:
            limit_threads(threads)
        self.style, self.settings, self.clip = style, settings, clip
        text = {"strength": str(settings.strength), "size": str(settings.size or "the input's")}
        if style.builtin is not None:
            self.networks = load_bundled()
            self.text = {"builtin": style.builtin, "network": self.networks.source, **text}
        else:
            self.model = load_instant(style.instant_model)
            self.painting = images.load_image(style.painting, "style image")
            self.code = self.model.style_code(self.painting, settings.style_size)  # once: every photo shares it
            self.text = {"instant-model": self.model.source, "style": style.painting_name, **text}
            self.text["style-size"] = str(settings.style_size)
        self._frames: StylizerFactory | None = None  # the video engine's stylizer factory, made for the first segment

    def __call__(self, item: WorkItem, data: bytes = b"") -> Result:
        """The item's result: a photo from its file's bytes, a segment from its video (self.clip)."""
        try:
            produced = self.photo(item, data) if item.kind == PHOTO else self.segment(item)
        except Exception as error:  # one unreadable or failing file is reported, the batch goes on
            return failed(item, error)
        return Result(item.index, item.name, item.output, item.kind, data=produced)

    def photo(self, item: WorkItem, data: bytes) -> bytes:
        settings = self.settings
        if self.style.builtin is not None:
            picture = builtin_stylize(
                data, self.style.builtin, strength=settings.strength, size=settings.size, networks=self.networks
            )
        else:  # instant_stylize's steps, with the painting's style code computed once for the whole batch
            content = images.load_image(data, "photo")
            if settings.size is not None:
                content = images.resize_longer_side(content, settings.size)
            picture = images.to_uint8(self.model.apply(content, self.code, settings.strength))
        return images.png_bytes(picture, {**self.text, "content": item.name})

    def segment(self, item: WorkItem) -> bytes:
        """A video segment's mp4 (its frames [start, stop), the warm-up frames before them not written)."""
        from ..video import builtin_frames, instant_frames, stylize_clip

        settings = self.settings
        if self._frames is None:
            if self.style.builtin is not None:
                self._frames = builtin_frames(self.style.builtin, settings.strength, networks=self.networks)
            else:
                self._frames = instant_frames(self.painting, settings.strength, settings.style_size, model=self.model)
        size: dict[str, Any] = {} if settings.size is None else {"size": settings.size}  # None: the video's default
        with tempfile.TemporaryDirectory(prefix="stylize-segment-") as temporary:
            part = Path(temporary) / "part.mp4"
            run = stylize_clip(
                self.clip(item.name),
                part,
                self._frames,
                limits=settings.video_limits(),
                start=item.start,
                stop=item.stop,
                warmup=item.warmup,
                **size,
            )
            for _ in run:  # its records are for a page's live view; a batch reports whole items
                pass
            return part.read_bytes()


def read_input(folder: Path, item: WorkItem) -> bytes:
    """A photo's bytes, its size and header checked first (ValueError, OSError); a video is read by its segments."""
    if item.kind != PHOTO:
        return b""
    path = folder / item.name
    images.read_header(path, "photo")
    return path.read_bytes()


def failed(item: WorkItem, error: BaseException) -> Result:
    """An item's result when it could not be done: its one-line error."""
    return Result(item.index, item.name, item.output, item.kind, error=one_line(error))
