"""This machine's pace at whole-picture steps and a poster's tile steps, as this process has measured them: what
best's default time is made of, so that on a CPU four times slower it still buys its steps rather than a quarter."""

from __future__ import annotations

# Seconds a tile step takes per megapixel of the tile, until this process has measured its own: the project's 2-core
# AMD EPYC with bfloat16 (0.68 s a step on a 512 px tile; one core of it in float32 without AVX-512, as fast as a
# 2-core AVX2 CPU, took 2.7 s: 10.3 s a megapixel).
PROJECT_TILE_STEP = 2.6

_tile_step: dict[str, float] = {}  # precision as asked ("auto" too): seconds a tile step per megapixel


def tile_step(precision: str) -> float:
    """Seconds a tile step takes per megapixel of tile in this precision: the last measured, else the project's."""
    return _tile_step.get(precision, PROJECT_TILE_STEP)


def measured(precision: str) -> bool:
    """Whether this process has timed a tile step in precision (its whole-picture step is timed with it)."""
    return precision in _tile_step


def remember_tile_step(seconds_per_megapixel: float, *precisions: str) -> None:
    """Record a measured pace under each name of its precision (as asked, and as resolved)."""
    if seconds_per_megapixel > 0:
        for precision in precisions:
            _tile_step[precision] = seconds_per_megapixel


# A measured pace within this factor of the project's is the project's: its own warm-up read 2.5-2.9.
SAME_PACE = 1.25


# Seconds a whole-picture step takes per megapixel of picture (gatys/loop.measure_step), until measured: the project's
# machine, as PROJECT_TILE_STEP (4.8-5.2; one core of it without AVX-512 in float32 read 22.7-23.5, 4.6x, as its
# 512 px steps took, where a tile step read 4.0x: the whole network slows down more than the tiles' first layers).
PROJECT_BASE_STEP = 5.0

_base_step: dict[str, float] = {}  # precision as asked ("auto" too): seconds a whole-picture step per megapixel


def remember_base_step(seconds_per_megapixel: float, *precisions: str) -> None:
    """Record a measured whole-picture pace under each name of its precision."""
    if seconds_per_megapixel > 0:
        for precision in precisions:
            _base_step[precision] = seconds_per_megapixel


def slowdown(precision: str) -> float:
    """How many times longer a whole-picture step takes here than on the project's machine: 1 until measured,
    within SAME_PACE, and on a faster machine (more steps than the project's minute takes fade the photo). Measured
    at loading (the whole picture's own step), else as the tile step says, which under-counts a slow CPU's: one core
    of the project's without AVX-512 or bfloat16 read 4.0 on tiles, 4.6 on its 512 px steps."""
    if precision in _base_step:
        ratio = _base_step[precision] / PROJECT_BASE_STEP
    else:
        ratio = tile_step(precision) / PROJECT_TILE_STEP
    return ratio if ratio > SAME_PACE else 1.0
