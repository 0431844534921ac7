"""This machine's pace at a poster's tile steps, as this process has measured it: what best's default time is made
of, so that on a CPU four times slower it still buys its steps rather than a quarter of them."""

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
    """Whether this process has timed a tile step in precision."""
    return precision in _tile_step


def remember_tile_step(seconds_per_megapixel: float, *precisions: str) -> None:
    """Record a measured pace under each name of its precision (as asked, and as resolved)."""
    if seconds_per_megapixel > 0:
        for precision in precisions:
            _tile_step[precision] = seconds_per_megapixel


# A measured pace within this factor of the project's is the project's: its own warm-up read 2.5-2.9.
SAME_PACE = 1.25


def slowdown(precision: str) -> float:
    """How many times longer a step takes here than on the project's machine, as the tile step says: 1 until
    measured, within SAME_PACE, and on a faster machine (more steps than the project's minute takes fade the photo).
    One core of it without AVX-512 or bfloat16 read 4.0; its base steps there take 4.6x as long. The whole network's
    own evaluation, timed at loading, read 4.0-4.3x there (and 3.97x in one command's loading), no nearer, for 2 s
    more loading natively and 8 s there, so it is not timed (bench/README.md, "best's content layer")."""
    ratio = tile_step(precision) / PROJECT_TILE_STEP
    return ratio if ratio > SAME_PACE else 1.0
