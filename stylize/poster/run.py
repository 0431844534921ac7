"""A poster: the whole picture painted at POSTER_BASE by the Gatys loop, then every tile of the full size given the
painting's own fine texture (detail.py), within one time budget and a bounded memory, yielding Progress records."""

from __future__ import annotations

import dataclasses
import functools
import math
import statistics
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..core import color, images, paces
from ..core.errors import NetworkUnavailable
from ..core.precision import resolve_precision
from ..core.settings import (
    DETAIL_CHOICE_SECONDS,
    DETAIL_SECONDS_PER_MEGAPIXEL,
    DETAIL_STEPS,
    FIRST_TILE_STEP_EXTRA,
    OVERLAP_SHARE,
    POSTER_BASE,
    SECONDS_RANGE,
    STRENGTH_MIDDLE,
    Settings,
    base_most_seconds,
    poster_layout,
    tile_step_seconds,
)
from ..core.tiles import Tile, feather
from ..fast.bundled import TRANSFORM_SIZE
from ..fast.instant import STYLE_SIZE, load_instant
from ..fast.tiled import detail_sigma, paint_in_tiles
from ..gatys import loop
from ..gatys.loop import Progress
from ..gatys.losses import gram_matrices
from ..gatys.networks import FeatureNetwork, load_network
from .detail import (
    DETAIL_LAYERS,
    DetailWeights,
    blended_grams,
    texture_targets,
    tile_arguments,
    tile_iterates,
    traced_detail,
)

# The tiles' fidelity term compares them with the picture at 1/FIDELITY_FACTOR of the output's side (at most the
# base's): detail finer than FIDELITY_FACTOR px is free to become the painting's marks. At 2 (the base's own
# resolution at 1024 px) only a 2 px grain was free; at 4 strokes of 4-8 px formed (contact sheet in bench/README.md).
FIDELITY_FACTOR = 4
MOST_TILE_STEPS = 40  # under a budget: a tile's texture has settled by then; the run ends early instead
DETAIL_SECONDS_SHARE = 0.5  # the share of a budget the tiles get when it is shorter than the size's default
PREVIEW_SECONDS = 1.0  # the least time between two records while the tiles run (each is a full-size picture)
FINISH_SECONDS = 0.5  # after the last tile: the final record and its full-size picture
# same_whole's corrections: at 2048 px one bilinear one left the greyscale Great Wave's VGG16 Gram match seen whole
# at 0.69 (its base 0.75), three bicubic ones 0.75; Starry Night 0.75 and 0.77 (base 0.77). Up close the detail
# weakened a little (strokes 0.55 to 0.57, enlarged 0.70).
SAME_WHOLE_ROUNDS = 3


@dataclass
class Canvas:
    """The full-size picture as the tiles change it, the base it started as, and what each tile is compared with."""

    picture: np.ndarray  # float HxWx3, the output
    start: np.ndarray  # the base enlarged: what each tile starts from and what its fidelity term reads
    coarse_scale: float  # the fidelity term's side over the output's
    content: np.ndarray | None  # the photo at full size, only to keep its colours (colors="luminance")
    mask: np.ndarray | None  # HxWx1 in [0, 1] at full size: where the style goes
    overlap: int  # px neighbouring tiles share
    base_scale: float  # the base's side over the output's
    chroma: float  # the paintings' chroma spread (color.chroma_spread), which a tile's change keeps within

    def tile_start(self, tile: Tile) -> tuple[np.ndarray, np.ndarray]:
        """A tile's starting pixels (the picture as the tiles before it left it) and the coarse picture under it."""
        region = self.start[tile.window]
        shape = (max(1, round(tile.shape[0] * self.coarse_scale)), max(1, round(tile.shape[1] * self.coarse_scale)))
        return self.picture[tile.window].copy(), images.resize(region, shape)

    def put(self, tile: Tile, pixels: np.ndarray, before: np.ndarray) -> None:
        """Blend a finished tile in over what is there, feathered where its neighbours overlap it; seen at the base's
        size, it is what was there (same_whole), which the instant detail made the base's picture. (The enlarged base
        shrunk again is the base blurred: with it, Starry Night's VGG16 Gram match whole fell from 0.77 to 0.58.)"""
        base_shape = (max(1, round(tile.shape[0] * self.base_scale)), max(1, round(tile.shape[1] * self.base_scale)))
        pixels = same_whole(
            before + color.limit_chroma(pixels - before, self.chroma), images.resize(before, base_shape)
        )
        if self.mask is not None:
            pixels = before + self.mask[tile.window] * (pixels - before)
        if self.content is not None:
            pixels = color.keep_luminance(pixels, self.content[tile.window])
        weights = feather(tile, self.overlap)
        self.picture[tile.window] = weights * pixels + (1.0 - weights) * self.picture[tile.window]


def poster_tiles(shape: tuple[int, int], settings: Settings) -> list[Tile]:
    """The tiles of a poster of shape, as settings.tile_size lays them out."""
    return poster_layout(shape, settings.tile_size)


def budget_split(settings: Settings, shape: tuple[int, int]) -> tuple[float | None, float | None]:
    """(the base's seconds, the tiles' seconds) of a poster's time budget, (None, None) without one. The tiles get
    the time preset_seconds adds for their size (a shorter budget is shared in DETAIL_SECONDS_SHARE), and all that
    the base can't use well: more than balanced's minute's steps fade the photo (settings.base_most_seconds). The
    old best preset's three minutes at 512 px ended at a content keep of 0.24-0.29 (balanced 0.50-0.59)."""
    if settings.seconds is None:
        return None, None
    wanted = DETAIL_CHOICE_SECONDS + DETAIL_SECONDS_PER_MEGAPIXEL * shape[0] * shape[1] / 1e6
    detail = min(wanted, DETAIL_SECONDS_SHARE * settings.seconds) if settings.seconds < 2 * wanted else wanted
    base = max(SECONDS_RANGE[0], min(settings.seconds - detail, base_most_seconds(settings.precision)))
    return base, settings.seconds - base


def stylize_poster(
    content: np.ndarray,
    styles: list[np.ndarray],
    settings: Settings,
    *,
    network: FeatureNetwork | None = None,
    mask: np.ndarray | None = None,
    steer: loop.Steer | None = None,
    started: float | None = None,
    instant: loop.InstantStart | None = None,
) -> Generator[Progress, None, None]:
    """stylize_pictures for a poster (settings.poster): records of the base as it is painted, then of the full-size
    picture after each tile (at most one a PREVIEW_SECONDS), and the last. Stopping keeps the full-size picture made
    so far, and its record's settings (the steps of the base and of each tile) reproduce it."""
    started = loop.clock() if started is None else started
    height, width = content.shape[:2]
    shape = images.scaled_shape(height, width, settings.size)
    tiles = poster_tiles(shape, settings)
    if settings.tile_steps and len(settings.tile_steps) != len(tiles):
        raise ValueError(
            f"tile_steps has {len(settings.tile_steps)} counts but a {shape[1]}x{shape[0]} poster has {len(tiles)} "
            "tiles: give one count per tile, or a time budget (seconds) instead"
        )
    network = network or load_network(settings.network, settings.weights_path)
    base_seconds, detail_seconds = budget_split(settings, shape)
    base = settings.replace(size=POSTER_BASE, seconds=base_seconds, tile_steps=(), tile_detail=None)
    last = None
    for record in loop.stylize_pictures(
        content, styles, base, network=network, mask=mask, steer=steer, started=started, instant=instant
    ):
        last = record
        yield _as_poster(record, settings, base_seconds, detail_eta(detail_seconds, shape, settings))
    assert last is not None and last.settings is not None  # the loop yields at least its start and its end
    yield from paint_tiles(content, styles, settings, last, tiles, network, mask, started, shape)


def detail_eta(detail_seconds: float | None, shape: tuple[int, int], settings: Settings) -> float | None:
    """The tiles' time as the base's records foresee it: their share of the budget, or where that can't give every
    tile a step at this machine's pace (paint_tiles then skips them) the instant detail's alone. At 4096 px the page
    said 70 s left where 17 s were, the tiles' 50 s share unused."""
    instant = CHOICE_SECONDS + INSTANT_DETAIL_PACE * shape[0] * shape[1] / 1e6
    step = tile_step_seconds(shape, settings.tile_size, settings.precision)
    if detail_seconds is None or detail_seconds >= instant + step:
        return detail_seconds
    return min(detail_seconds, instant)


def _as_poster(record: Progress, settings: Settings, base_seconds, detail_seconds) -> Progress:
    """A base record as the poster's: not done (the tiles follow), its share of the whole run."""
    if settings.seconds is None:
        return dataclasses.replace(record, total=record.total + 1, fraction=0.5 * record.fraction)
    share = base_seconds / (base_seconds + detail_seconds)  # the tiles' foreseen time, not their share of the budget
    eta = None if record.eta is None else record.eta + detail_seconds
    return dataclasses.replace(
        record, total=record.total + 1, fraction=share * record.fraction, eta=eta, budget=settings.seconds
    )


class TilePace:
    """How many steps each tile takes: the recipe's, DETAIL_STEPS, or under a budget as many as fit, the same for
    every tile (uneven steps would show as uneven texture), decided again from each tile's measured pace."""

    def __init__(self, settings: Settings, tiles: list[Tile], deadline: float | None):
        self.settings, self.tiles, self.deadline = settings, tiles, deadline
        self.taken: list[int] = []
        self._paces: list[float] = []  # seconds a step per megapixel: a probe's, then each step after a tile's first
        self.skip = False  # the budget can't give every tile a step: none gets one

    def most(self, index: int) -> int:
        if self.settings.tile_steps:
            return self.settings.tile_steps[index]
        return DETAIL_STEPS if self.deadline is None else MOST_TILE_STEPS

    def pace(self) -> float | None:
        return statistics.median(self._paces[-30:]) if self._paces else None

    def measured(self, seconds: float, pixels: int) -> None:
        self._paces.append(seconds / (pixels / 1e6))

    def wanted(self, index: int, now: float) -> int:
        """Steps for tile index, asked again after each step (the first tile measures the pace as it goes)."""
        most = self.most(index)
        pace = self.pace()
        if self.deadline is None or self.settings.tile_steps or pace is None:
            return most
        if self.skip:
            return 0
        pixels_left = sum(tile.shape[0] * tile.shape[1] for tile in self.tiles[index:]) / 1e6
        tile_pixels = self.tiles[index].shape[0] * self.tiles[index].shape[1] / 1e6
        done_here = self.taken[index] if index < len(self.taken) else 0
        # The steps every tile from here can take, each tile's first costing FIRST_TILE_STEP_EXTRA more: this tile's
        # done ones already spent part of the time left. Without the extra, 70 s at 1024 px ended at 72 s.
        spent_here = (done_here + FIRST_TILE_STEP_EXTRA if done_here else 0) * pace * tile_pixels
        per_tile = (self.deadline - now + spent_here) / (pace * pixels_left) - FIRST_TILE_STEP_EXTRA
        if index == 0 and not done_here and per_tile < 1:
            self.skip = True  # some tiles with a step and others without would show: the instant detail stands
            return 0
        return max(1, min(most, math.floor(per_tile)))

    def planned(self) -> int:
        """All tile steps: taken, and those the tiles not reached will take at the current plan."""
        left = len(self.tiles) - len(self.taken)
        if self.settings.tile_steps:
            return sum(self.settings.tile_steps)
        upcoming = 0 if self.skip else self.taken[-1] if self.taken else self.most(0)
        return sum(self.taken) + left * upcoming

    def seconds_left(self, now: float) -> float | None:
        if self.deadline is not None:
            return max(0.0, self.deadline - now) + FINISH_SECONDS
        pace = self.pace()
        if pace is None:
            return None
        pixels = sum(tile.shape[0] * tile.shape[1] for tile in self.tiles[len(self.taken) :]) / 1e6
        return pace * pixels * self.most(0)


def paint_tiles(
    content: np.ndarray,
    styles: list[np.ndarray],
    settings: Settings,
    base: Progress,
    tiles: list[Tile],
    network: FeatureNetwork,
    mask: np.ndarray | None,
    started: float,
    shape: tuple[int, int],
) -> Iterator[Progress]:
    """The tiles, each from the picture as the tiles before it left it, then blended in (Canvas.put)."""
    assert base.settings is not None
    whole = base.image.astype(np.float32) / 255.0
    start = images.resize(whole, shape)
    chroma = color.chroma_spread(styles)
    model = network.truncated(DETAIL_LAYERS).in_precision(settings.precision)
    # The painting at its own resolution, not enlarged: its marks keep their size in pixels, whatever the output's.
    paintings = [
        images.resize_longer_side(p, min(max(p.shape[:2]), round(settings.size * settings.style_scale))) for p in styles
    ]
    change = instant_detail(start, styles, settings, chroma)
    share = 0.0
    if change is not None and settings.tile_detail is not None:  # a recipe's: its run's share, replayed
        share = settings.tile_detail
    elif change is not None:  # the painting's, scaled down by a low strength
        strength_share = min(1.0, settings.strength / STRENGTH_MIDDLE)
        deadline = None if settings.seconds is None else started + settings.seconds - FINISH_SECONDS
        share = strength_share * detail_share(start, change, model, paintings, settings.style_blend, deadline)
    settings = settings.replace(tile_detail=share)
    canvas = Canvas(
        start.copy() if change is None else same_whole(start + share * change, whole),
        start,
        min(POSTER_BASE / max(shape), 1.0 / FIDELITY_FACTOR),
        images.resize(content, shape) if settings.colors == "luminance" else None,
        None if mask is None else images.resize(np.asarray(mask, np.float32)[..., None], shape),
        settings.tile_size // OVERLAP_SHARE,
        max(base.image.shape[:2]) / max(shape),
        chroma,
    )
    deadline = None if settings.seconds is None else settings.seconds - FINISH_SECONDS
    pace = TilePace(settings, tiles, deadline)
    base_steps = base.step
    if deadline is not None and not settings.tile_steps:
        left = deadline - (loop.clock() - started)
        if left < FASTEST_TILE_PACE * shape[0] * shape[1] / 1e6:  # not a step for every tile, even at the fastest
            pace.skip = True  # nor the probe (a few seconds on one AVX2 core at 2048 px): the detail stands
            yield tile_record(base, settings, canvas, pace, base_steps, {}, started, True)
            return
    targets, layer_weights = texture_targets(model, paintings, settings.style_blend)
    if deadline is not None and not settings.tile_steps:
        pace.measured(*probe(model, canvas, targets, layer_weights))
    shown = loop.clock()
    losses: dict[str, float] = {}
    for index, tile in enumerate(tiles):
        before, coarse = canvas.tile_start(tile)
        pixels, taken = before, 0
        pace.taken.append(0)
        last = loop.clock()
        iterates = tile_iterates(model, before, coarse, targets, layer_weights, DetailWeights())
        try:
            while taken < pace.wanted(index, loop.clock() - started):
                step = next(iterates, None)
                if step is None:  # converged
                    break
                pixels, losses = step
                now = loop.clock()
                if taken:  # a tile's first step also builds its targets (and, once, traces the step)
                    pace.measured(now - last, tile.shape[0] * tile.shape[1])
                last, taken = now, taken + 1
                pace.taken[index] = taken
        finally:
            iterates.close()
        if pace.skip:  # no tile takes a step: the picture is the instant detail's
            yield tile_record(base, settings, canvas, pace, base_steps, losses, started, True)
            return
        canvas.put(tile, pixels, before)
        final = index == len(tiles) - 1
        # Steps after a tile's first were timed: best's next default time counts them.
        if final and sum(pace.taken) > len(tiles) and (measured := pace.pace()) is not None:
            paces.remember_tile_step(measured, settings.precision, resolve_precision(settings.precision))
        if final or loop.clock() - shown >= PREVIEW_SECONDS:
            yield tile_record(base, settings, canvas, pace, base_steps, losses, started, final)
            shown = loop.clock()


def same_whole(picture: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """picture (float HxWx3) with its low frequencies replaced by whole's, a smaller picture of the same place: shrunk
    to whole's size, it is whole. Detail that shows at the base's size changed how the picture judges seen whole
    (2048 px, Starry Night: the instant network's detail took the VGG16 Gram match at 512 px from the base's 0.75 to
    0.65, and back to 0.75 with this), so a poster's detail is only what the base could not hold."""
    shrink = functools.partial(tf.image.resize, size=whole.shape[:2], method="bilinear", antialias=True)
    for _ in range(SAME_WHOLE_ROUNDS):  # an enlarged correction, shrunk again, is only part of itself: repeat
        picture = picture + tf.image.resize(whole - shrink(picture), picture.shape[:2], method="bicubic").numpy()
    return np.clip(picture, 0.0, 1.0)


def instant_detail(
    start: np.ndarray, paintings: list[np.ndarray], settings: Settings, chroma: float
) -> np.ndarray | None:
    """The instant network's detail over the enlarged base, every tile painted (fast/tiled.py): brush marks at 1:1
    in a few seconds, as a change to start within chroma (color.chroma_spread). None without the instant network
    (not installed) or at strength 0."""
    try:
        model = load_instant()
    except NetworkUnavailable:
        return None
    if settings.strength == 0:
        return None
    blend = settings.style_blend or (1.0,) * len(paintings)
    codes = [model.style_code(p, STYLE_SIZE) for p in paintings]
    code = codes[0] if len(codes) == 1 else sum(w * c for w, c in zip(blend, codes)) / sum(blend)  # several: blended

    def paint(tile: np.ndarray) -> np.ndarray:  # the code is the model's own kind: a tensor or an array
        return model.apply(tile, code)  # type: ignore[arg-type]

    painted = paint_in_tiles(start, start, paint, TRANSFORM_SIZE, detail_sigma(TRANSFORM_SIZE, max(start.shape[:2])))
    return color.limit_chroma(painted - start, chroma)


# The instant detail's shares to choose from, judged on SHARE_CROPS crops of SHARE_CROP px (the "up close" of the
# posters' issue) against as many of the painting's. At 2048 px the whole detail took The Scream's 1:1 crops farther
# from the painting's than the enlarged picture (VGG16-HED marks 0.50 against 0.33: the network's marks are bolder
# than its bands); a quarter of it brought them nearer on both measures (marks 0.29, strokes 0.37 against 0.80). On
# Starry Night and the Great Waves the whole detail stayed nearest; on Udnie and the mosaic 0.75, within 0.02 on both
# measures summed (bench/README.md, posters). 256 px crops chose 0.75 for the grey Great Wave, whose marks then
# judged 0.57 against the whole detail's 0.42.
DETAIL_SHARES = (1.0, 0.75, 0.5, 0.25, 0.0)
SHARE_CROPS, SHARE_CROP = 4, 384


def detail_share(
    start: np.ndarray,
    change: np.ndarray,
    model: FeatureNetwork,
    paintings: list[np.ndarray],
    blend: tuple[float, ...] = (),
    deadline: float | None = None,
) -> float:
    """The share of the instant detail (change, over start) whose 1:1 crops are nearest crops of the paintings in
    the tiles' texture layers (the mean relative Gram distance). Crops at the quadrants' centres. The whole detail
    where the others wouldn't fit before deadline (loop.clock()'s), judged from the first's time."""
    targets = blended_grams([_gram_means(model, p, _quadrant_crops(p)) for p in paintings], blend)
    windows = _quadrant_crops(start)

    def distance(share: float) -> float:
        crops = np.clip(np.stack([start[w] + share * change[w] for w in windows]), 0.0, 1.0)
        ours = gram_matrices(model(tf.constant(crops)), model.style_layers)
        distances = [tf.norm(ours[name] - targets[name], axis=(1, 2)) / tf.norm(targets[name]) for name in ours]
        return float(tf.reduce_mean(tf.stack(distances)))

    began = loop.clock()
    distances = {DETAIL_SHARES[0]: distance(DETAIL_SHARES[0])}
    if deadline is not None and loop.clock() + (len(DETAIL_SHARES) - 1) * (loop.clock() - began) > deadline:
        return DETAIL_SHARES[0]
    distances.update({share: distance(share) for share in DETAIL_SHARES[1:]})
    return min(distances, key=distances.__getitem__)


def _quadrant_crops(picture: np.ndarray) -> list[tuple[slice, slice]]:
    """SHARE_CROPS windows of SHARE_CROP px (at most half the picture's side) centred in its quadrants; a picture
    under 64 px whole (a smaller crop would have next to nothing left at block3)."""
    height, width = picture.shape[:2]
    if min(height, width) < 64:
        return [(slice(None), slice(None))]
    side = min(SHARE_CROP, height // 2, width // 2)
    corners = [(round(y * height - side / 2), round(x * width - side / 2)) for y in (0.25, 0.75) for x in (0.25, 0.75)]
    return [(slice(y, y + side), slice(x, x + side)) for y, x in corners[:SHARE_CROPS]]


def _gram_means(model: FeatureNetwork, picture: np.ndarray, windows: list[tuple[slice, slice]]) -> dict:
    """The mean Gram matrices of picture's windows at the model's style layers (1xCxC each)."""
    crops = tf.constant(np.stack([picture[w] for w in windows]), tf.float32)
    return {
        name: tf.reduce_mean(g, axis=0, keepdims=True)
        for name, g in gram_matrices(model(crops), model.style_layers).items()
    }


# Seconds a tile step takes a megapixel at the fastest: 0.7 s on a 512 px tile natively (bfloat16, 2 cores), 2.7 s a
# megapixel; time left for less than a step on every tile at this pace spends none on the tiles' targets and probe.
FASTEST_TILE_PACE = 2.0
INSTANT_DETAIL_PACE = 1.5  # seconds a megapixel of the instant network's detail: 1.3 on 2 cores (16 s at 4096 px)
CHOICE_SECONDS = 1.5  # detail_share's choice, on 2 cores (1.4-1.6 s at 1024 and 2048 px)
PROBE_SIDE = 256  # px of the probe that measures a tile step's pace before any tile is given its steps
STEP_EVALUATIONS = 1.3  # L-BFGS's evaluations a step, on average over a tile's steps (its first makes 2)


def probe(model, canvas: Canvas, targets, layer_weights) -> tuple[float, int]:
    """The seconds one tile step takes on PROBE_SIDE px, and those pixels: one evaluation of the tiles' objective."""
    side = min(PROBE_SIDE, *canvas.picture.shape[:2])
    crop = canvas.picture[:side, :side]
    coarse = images.resize(canvas.start[:side, :side], (max(1, side // FIDELITY_FACTOR),) * 2)
    evaluate = traced_detail(model)
    arguments = tile_arguments(targets, layer_weights, coarse, DetailWeights())
    started = loop.clock()
    evaluate(tf.constant(crop[None]), arguments)[1].numpy()
    return STEP_EVALUATIONS * (loop.clock() - started), side * side


def tile_record(base, settings, canvas, pace, base_steps, losses, started, final) -> Progress:
    """The record of the full-size picture after the tiles so far."""
    now = loop.clock() - started
    step = base_steps + sum(pace.taken)
    steps = list(pace.taken) + [0] * (len(pace.tiles) - len(pace.taken))
    recipe = base.settings.replace(
        size=settings.size, seconds=None, tile_steps=tuple(steps), tile_detail=settings.tile_detail
    )
    left = pace.seconds_left(now)
    return dataclasses.replace(
        base,
        step=step,
        total=step if final else max(step + 1, base_steps + pace.planned()),
        image=images.to_uint8(canvas.picture),
        losses=losses,
        elapsed=now,
        fraction=1.0 if final else (now / (now + left) if left else 0.0),
        eta=None if final else left,
        settings=recipe,
        budget=settings.seconds,
    )
