"""What a run may ask of the machine, checked before any work: decode sizes, the network's smallest side, memory;
and the process-wide memory budget every heavy job reserves from (its cost from costs.py)."""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Sequence

from . import images
from .costs import fitting_side, run_bytes
from .quiet import gpu_present
from .settings import Settings, style_size

DECODE_MARGIN = 2  # uploads are decoded to at most this multiple of the side they are used at


def decode_sides(settings: Settings) -> tuple[int, int]:
    """The longest sides worth decoding the photo and the paintings at: more pixels are resized away anyway."""
    return DECODE_MARGIN * settings.size, DECODE_MARGIN * style_size(settings.size, settings)


# The deepest layers read (block5) sit behind four 2x2 poolings: a shorter side under 16 px leaves them no pixels,
# which ends in a MaxPool error or a 0/0 Gram matrix (loss NaN).
NETWORK_MIN_SIDE = 16


def check_sizes(settings: Settings, content: tuple[int, int], styles: list[tuple[int, int]]) -> None:
    """Refuse, before any work, a photo or painting whose shorter side at some scale is under NETWORK_MIN_SIDE."""
    smallest = settings.schedule()[0][0]
    pictures = [("the photo", content, smallest)] + [
        ("the painting", shape, style_size(smallest, settings)) for shape in styles
    ]
    for what, shape, side in pictures:
        scaled = images.scaled_shape(*shape, side)
        if min(scaled) < NETWORK_MIN_SIDE:
            needed = math.ceil(NETWORK_MIN_SIDE * max(shape) / min(shape))
            while min(images.scaled_shape(*shape, needed)) < NETWORK_MIN_SIDE:  # scaled_shape truncates
                needed += 1
            raise ValueError(
                f"{what} ({shape[1]}x{shape[0]}) scaled to {side} px is {scaled[1]}x{scaled[0]} but its "
                f"shorter side must be at least {NETWORK_MIN_SIDE} px for the network: use a longer side "
                f"of at least {needed} px there (size, start size or style scale), or crop it"
            )


MEMINFO = "/proc/meminfo"
# (limit, usage, stat, reclaimable-cache key) for cgroup v2 and v1: a container's limit, not the host's memory.
CGROUPS = (
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.stat", "inactive_file"),
    (
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        "/sys/fs/cgroup/memory/memory.stat",
        "total_inactive_file",
    ),
)


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


def check_memory(
    shape: tuple[int, int],
    style_shapes: Sequence[tuple[int, int]] = (),
    histogram_shapes: Sequence[tuple[int, int]] = (),
) -> None:
    """Refuse, before any work, a run that would not fit in the free memory (run_bytes)."""
    if gpu_present():
        return  # GPU memory is another budget; TensorFlow reports its own out-of-memory error there
    available = available_memory()
    if available is None:
        return  # no reliable figure: let the run try
    needed = run_bytes(shape, style_shapes, histogram_shapes)
    if needed > available:  # no figures in the message: a stranger learns nothing about the machine from it
        raise ValueError(
            f"a {shape[1]}x{shape[0]} picture needs more memory than this machine has free: choose a "
            f"size of at most {fitting_side(shape, needed, available)} px"
            + (" or a smaller style scale" if style_shapes else "")
        )


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
                raise ValueError(
                    f"{what} needs more memory than is free while other visitors' work runs: try "
                    "again in a minute, or choose a smaller size"
                )
            self.reserved += needed
        try:
            yield
        finally:
            with self._lock:
                self.reserved -= needed


BUDGET = MemoryBudget()  # the process's one pool
