"""What a run may ask of the machine, checked before any work: decode sizes, the network's smallest side, memory."""

from __future__ import annotations

import math
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
