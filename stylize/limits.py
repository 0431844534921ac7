"""What a run may ask of the machine, checked before any work: decode sizes, the network's smallest side, memory."""

from __future__ import annotations

import contextlib
import math
import os
import threading
from typing import Sequence

from . import images
from .quiet import gpu_present
from .settings import Settings

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


# A run's peak resident memory beyond the loaded process, fitted to bench/memory.py (balanced preset, 4:3 photos;
# figures in the README's "Hosting safely"): offline VGG16 217 MB above the loaded process at 128 px, 819 MB at
# 512 px, 1625 MB at 768 px (least squares 153 MB + 3486 B/px); ImageNet VGG19, deeper, 346 MB at 256 px, 830 MB
# at 512 px, 1712 MB at 768 px (163 MB + 3654 B/px). These lie above every measured peak of both networks (the
# fixed part: TensorFlow's workspace, the traced step, the instant start's networks).
FIXED_BYTES = 200 * 2**20
BYTES_PER_PIXEL = 3700
# One fast-network call's peak beyond the loaded process (bench/memory.py --fast, 4:3 photos): the Instant network
# 36 MB at 512 px and 283 MB at 2048 px, a built-in style 65 MB and 1033 MB; these lie above both at a square.
FAST_FIXED_BYTES = 64 * 2**20
FAST_BYTES_PER_PIXEL = 350
DECODE_BYTES = 3 * images.MAX_PIXELS  # the largest upload decoded (8-bit RGB) before it is shrunk to the size used
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


def run_shapes(settings: Settings, content: tuple[int, int], styles: Sequence[tuple[int, int]]) -> tuple:
    """What run_bytes counts for a run on decoded pictures of these shapes: (output, paintings at their style
    scale, paintings for histogram matching)."""
    return (images.scaled_shape(*content, settings.size),
            [images.scaled_shape(*shape, style_size(settings.size, settings)) for shape in styles],
            list(styles) if settings.colors == "histogram" else [])


def run_bytes(shape: tuple[int, int], style_shapes: Sequence[tuple[int, int]] = (),
              histogram_shapes: Sequence[tuple[int, int]] = ()) -> int:
    """A run's peak resident memory beyond the loaded process: the fixed part, the optimized picture at shape,
    each painting's Gram pass at its scaled shape, and histogram matching at the decoded paintings' shapes."""
    return int(FIXED_BYTES + shape[0] * shape[1] * BYTES_PER_PIXEL
               + sum(h * w for h, w in style_shapes) * STYLE_BYTES_PER_PIXEL
               + sum(h * w for h, w in histogram_shapes) * HISTOGRAM_BYTES_PER_PIXEL)


def fast_bytes(side: int, decode: bool = True) -> int:
    """A fast-network call's peak at longer side side (a square, the worst aspect), with an upload's decode."""
    return int(FAST_FIXED_BYTES + FAST_BYTES_PER_PIXEL * side * side + (DECODE_BYTES if decode else 0))


def fitting_side(shape: tuple[int, int], needed: int, available: float) -> int:
    """The longer side at which a picture of shape's aspect would fit in available bytes (the rest scaled alike)."""
    scale = max(0.0, (available - FIXED_BYTES) / max(1, needed - FIXED_BYTES))
    return int(math.sqrt(scale * shape[0] * shape[1]) * max(shape) / math.sqrt(shape[0] * shape[1]))


def check_memory(shape: tuple[int, int], style_shapes: Sequence[tuple[int, int]] = (),
                 histogram_shapes: Sequence[tuple[int, int]] = ()) -> None:
    """Refuse, before any work, a run that would not fit in the free memory (run_bytes)."""
    if gpu_present():
        return  # GPU memory is another budget; TensorFlow reports its own out-of-memory error there
    available = available_memory()
    if available is None:
        return  # no reliable figure: let the run try
    needed = run_bytes(shape, style_shapes, histogram_shapes)
    if needed > available:  # no figures in the message: a stranger learns nothing about the machine from it
        raise ValueError(f"a {shape[1]}x{shape[0]} picture needs more memory than this machine has free: choose a "
                         f"size of at most {fitting_side(shape, needed, available)} px"
                         + (" or a smaller style scale" if style_shapes else ""))


class MemoryBudget:
    """One process-wide pool of memory that every heavy job (an optimizer run, a fast-tab call, a webcam frame)
    reserves its estimated peak from before it starts, and gives back when it ends.

    The pool is STYLIZE_MEMORY_BUDGET_MB, else 90% of the memory free when it is first used (the loaded process
    already counted out), so jobs running side by side can't add up past what the machine has.
    """

    def __init__(self, total: int | None = None):
        self.total = total
        self.reserved = 0
        self._lock = threading.Lock()
        self._sized = total is not None

    def _size(self) -> int | None:
        if not self._sized:
            configured = os.environ.get("STYLIZE_MEMORY_BUDGET_MB")
            free = available_memory()
            self.total = int(float(configured) * 2**20) if configured else (None if free is None else int(0.9 * free))
            self._sized = True
        return self.total

    @contextlib.contextmanager
    def reserve(self, needed: int, what: str = "this job", shape: tuple[int, int] | None = None):
        """Hold needed bytes for the block; ValueError, before any work, when they are not there."""
        with self._lock:
            total = self._size()
            if total is not None and self.reserved + needed > total:
                if needed > total:
                    hint = f": choose a size of at most {fitting_side(shape, needed, total)} px" if shape else ""
                    raise ValueError(f"{what} needs more memory than this server has{hint}")
                raise ValueError(f"{what} needs more memory than is free while other visitors' work runs: try "
                                 "again in a minute, or choose a smaller size")
            self.reserved += needed
        try:
            yield
        finally:
            with self._lock:
                self.reserved -= needed


BUDGET = MemoryBudget()  # the process's one pool
