"""Draws the example pictures in assets/ from seeded noise and Pillow shapes: `python assets/make_examples.py`."""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# Only numpy and Pillow, no stylize import: the pictures must not change when the studio's code does, and it
# writes PNGs with Pillow directly because stylize.core.images would pull in TensorFlow for a plain save.
HERE = Path(__file__).resolve().parent
SUPERSAMPLE = 2  # shapes are drawn at twice the size and shrunk, which antialiases Pillow's hard-edged polygons


# ---------------------------------------------------------------- noise and small helpers


def stream(seed: int, part: str) -> np.random.Generator:
    """A random stream per part of a picture, so retuning one part leaves every other part where it was."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def smooth_noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """Value noise: random values every `cell` pixels, interpolated bicubically; float32 around [0, 1]."""
    cell = max(1.0, cell)
    rows, cols = int(height / cell) + 4, int(width / cell) + 4
    grid = rng.random((rows, cols), dtype=np.float32)
    big = Image.fromarray(grid).resize((round(cols * cell), round(rows * cell)), Image.Resampling.BICUBIC)
    start = round(cell)  # skip the first cell, where bicubic interpolation runs into the border
    return np.asarray(big)[start : start + height, start : start + width]


def fractal_noise(rng, height, width, cell, octaves=5, gain=0.5, stretch=1.0) -> np.ndarray:
    """Octaves of value noise, each half the size and `gain` as strong, scaled to exactly [0, 1].

    stretch > 1 makes features that many times wider than tall (clouds, ripples), < 1 taller (grass).
    """
    inner_w = max(2, round(width / stretch)) if stretch >= 1 else width
    inner_h = max(2, round(height * stretch)) if stretch < 1 else height
    total = np.zeros((inner_h, inner_w), np.float32)
    amplitude = 1.0
    for octave in range(octaves):
        total += amplitude * smooth_noise(rng, inner_h, inner_w, cell / 2**octave)
        amplitude *= gain
    if (inner_h, inner_w) != (height, width):
        total = np.asarray(Image.fromarray(total).resize((width, height), Image.Resampling.BICUBIC))
    return (total - total.min()) / max(float(np.ptp(total)), 1e-6)


def smoothstep(low: float, high: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - low) / (high - low), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def mix(a: np.ndarray, b, t: np.ndarray) -> np.ndarray:
    """a where t is 0, b where t is 1; t is HxW, colours HxWx3 or length-3."""
    return a + (np.asarray(b, np.float32) - a) * t[..., None]


def plain(colour: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.broadcast_to(colour, (height, width, 3))


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], np.float32) / 255.0


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


class Pen:
    """Pillow drawing in picture coordinates on a layer `scale` times larger: callers never scale by hand."""

    def __init__(self, draw: ImageDraw.ImageDraw, scale: float):
        self.draw, self.scale = draw, scale

    def _points(self, points) -> list[tuple[float, float]]:
        return [(px * self.scale, py * self.scale) for px, py in points]

    def polygon(self, points, fill) -> None:
        self.draw.polygon(self._points(points), fill=_rgba(fill))

    def box(self, left, top, right, bottom, fill, outline=None) -> None:
        self.draw.rectangle(
            self._points([(left, top), (right, bottom)]),
            fill=_rgba(fill),
            outline=outline and _rgba(outline),
            width=round(self.scale) if outline else 0,
        )

    def disc(self, cx, cy, radius, fill) -> None:
        self.draw.ellipse(self._points([(cx - radius, cy - radius), (cx + radius, cy + radius)]), fill=_rgba(fill))

    def line(self, points, fill, width: float) -> None:
        self.draw.line(self._points(points), fill=_rgba(fill), width=max(1, round(width * self.scale)), joint="curve")


def _rgba(colour) -> tuple[int, ...]:
    colour = tuple(int(c) for c in colour)
    return colour if len(colour) == 4 else colour + (255,)


def paste_drawing(image: np.ndarray, draw_on) -> np.ndarray:
    """Let draw_on(Pen) paint on a transparent layer SUPERSAMPLE times larger, then composite it over image."""
    height, width = image.shape[:2]
    layer = Image.new("RGBA", (width * SUPERSAMPLE, height * SUPERSAMPLE), (0, 0, 0, 0))
    draw_on(Pen(ImageDraw.Draw(layer), SUPERSAMPLE))
    layer = np.asarray(layer.resize((width, height), Image.Resampling.LANCZOS), np.float32) / 255.0
    alpha = np.clip(layer[..., 3:], 0.0, 1.0)
    colour = layer[..., :3] / np.maximum(alpha, 1e-6)  # Pillow's resize premultiplies, so undo it
    return image * (1.0 - alpha) + np.clip(colour, 0, 1) * alpha


# ---------------------------------------------------------------- (a) a lake among mountains


def landscape(width: int = 768, height: int = 512, seed: int = 1) -> np.ndarray:
    """A photo-like lake scene: sky, sun, clouds, mountains, hills, reflections, a shore with houses and trees."""
    H, W = height, width
    y = np.arange(H, dtype=np.float32)[:, None] / H
    x = np.arange(W, dtype=np.float32)[None, :] / H  # both in units of the height, so shapes keep their aspect
    water = 0.6  # the far shore, where the lake begins
    sun = (0.70 * W / H, 0.27)

    # Sky: deep blue overhead to a warm haze at the horizon, brightest around the sun.
    t = np.clip(y / water, 0, 1) ** 1.4
    sky = mix(
        mix(plain(rgb("#2d5da8"), H, W), rgb("#7fa6d6"), np.clip(t * 1.6, 0, 1)),
        rgb("#f3cfa0"),
        smoothstep(0.55, 1.0, t),
    )
    sun_distance = np.hypot(x - sun[0], y - sun[1])
    sky = mix(sky, rgb("#ffe3a8"), 0.75 * np.exp(-((sun_distance / 0.16) ** 2)))
    disc = smoothstep(0.052, 0.045, sun_distance) + 0.5 * np.exp(-((sun_distance / 0.06) ** 2))
    sky = mix(sky, rgb("#fff8e6"), np.minimum(disc, 1.0))

    # Clouds: fractal noise above a threshold, lit from above, thinning towards the horizon and around the sun.
    density = fractal_noise(stream(seed, "clouds"), H, W, cell=0.3 * H, octaves=6, gain=0.5, stretch=2.2)
    density *= (0.75 + 0.35 * smoothstep(water, 0.0, y)) * (0.7 + 0.3 * smoothstep(0.05, 0.35, sun_distance))
    cover = smoothstep(0.55, 0.68, density)
    shift = max(1, round(0.02 * H))
    lit = np.clip(0.65 + 5.0 * (np.roll(density, -shift, axis=0) - density), 0, 1)  # tops face the sun
    cloud_colour = mix(
        mix(plain(rgb("#9c9fbb"), H, W), rgb("#fffaf2"), lit),
        rgb("#ffd9a3"),
        0.5 * np.exp(-((sun_distance / 0.3) ** 2)),
    )
    scene = sky + (cloud_colour - sky) * (0.95 * cover)[..., None]
    haze = (rgb("#c9c6cf") + rgb("#f3cfa0")) / 2

    # Far mountains: a ridged-noise skyline (ridged: 1 - |2n - 1| turns noise's smooth tops into sharp peaks).
    ridge = 1.0 - np.abs(2.0 * fractal_noise(stream(seed, "skyline"), 1, W, cell=0.5 * H, octaves=6)[0] - 1.0)
    skyline = water - 0.08 - 0.24 * ridge**1.5
    # Faces turned right (the skyline falling to the right) catch the sun; gullies, taller than wide, add texture.
    face = np.tanh(2.0 * np.gradient(skyline * H))[None, :]
    rock = fractal_noise(stream(seed, "rock"), H, W, cell=0.1 * H, octaves=6, gain=0.55, stretch=0.5)
    rock = 1.0 - np.abs(2.0 * rock - 1.0)
    gullies = np.gradient(rock, axis=1) * H / 512 * 18.0
    below = (y - skyline[None, :]) / np.maximum(water - skyline[None, :], 1e-3)  # 0 at the top, 1 at the foot
    light = np.clip(0.5 + 0.35 * face * (1 - 0.5 * below) + gullies + 0.15 * (rock - 0.5), 0.0, 1.0)
    far = mix(plain(rgb("#2c3650"), H, W), rgb("#9aa2b8"), light)
    snow = smoothstep(0.42, 0.3, below + 0.25 * (rock - 0.5)) * smoothstep(0.35, 0.6, ridge[None, :])
    far = mix(far, mix(plain(rgb("#9eabc8"), H, W), rgb("#fbfcff"), light), 0.95 * snow)
    far = mix(far, haze, 0.1 + 0.25 * smoothstep(0.3, 1.0, below))  # air between us and the range
    scene = mix(scene, far, smoothstep(skyline[None, :] - 1.0 / H, skyline[None, :] + 1.0 / H, y))

    # Near hills: a lower, softer skyline in greens, with forest texture.
    hill_ridge = fractal_noise(stream(seed, "hills"), 1, W, cell=0.6 * H, octaves=5, gain=0.45)[0]
    hill_line = water - 0.015 - 0.09 * hill_ridge
    foliage = fractal_noise(stream(seed, "foliage"), H, W, cell=0.04 * H, octaves=4, gain=0.6)
    hills = mix(plain(rgb("#22401f"), H, W), rgb("#7f9c4c"), foliage**1.5)
    hills = mix(hills, haze, 0.28 - 0.15 * smoothstep(hill_line[None, :], water, y))
    scene = mix(scene, hills, smoothstep(hill_line[None, :] - 1.0 / H, hill_line[None, :] + 1.0 / H, y))

    def far_trees(pen):  # a forest along the far shore, back rows first so nearer trees overlap them
        rng = stream(seed, "forest")
        spots = [(rng.uniform(0, W), rng.uniform(0, 1)) for _ in range(int(0.5 * W))]
        for tx, row in sorted(spots, key=lambda spot: spot[1]):
            base = hill_line[min(int(tx), W - 1)] * H
            ty = base + 0.01 * H + row * (water * H - base)
            tall = (0.012 + 0.018 * row) * H * rng.uniform(0.8, 1.2)
            shade = rng.integers((22, 40, 22), (44, 68, 40)) * (0.7 + 0.3 * row)
            if rng.random() < 0.6:
                pen.polygon([(tx, ty - tall), (tx - tall * 0.3, ty), (tx + tall * 0.3, ty)], shade)
            else:
                pen.disc(tx, ty - tall * 0.4, tall * 0.4, shade)

    scene = paste_drawing(scene, far_trees)

    # The lake mirrors everything above the shore line, rippled sideways, darker and bluer further off.
    top = int(water * H)
    rows = np.arange(top, H)
    mirror = np.clip(2 * top - rows - 1, 0, H - 1)
    depth = (rows - top) / max(1, H - top)
    wobble = fractal_noise(stream(seed, "wobble"), H - top, W, cell=0.05 * H, octaves=3, stretch=8.0) - 0.5
    offsets = np.round((2 + 20 * depth[:, None]) * wobble * H / 512).astype(int)
    columns = np.clip(np.arange(W)[None, :] + offsets, 0, W - 1)
    reflection = scene[mirror[:, None], columns]
    water_colour = mix(plain(rgb("#2c4a66"), H - top, W), rgb("#18304a"), depth[:, None])
    lake = mix(reflection * 0.82, water_colour, 0.25 + 0.35 * depth[:, None])
    ripples = fractal_noise(stream(seed, "ripples"), H - top, W, cell=0.03 * H, octaves=3, stretch=14.0)
    lake = lake + 0.10 * (smoothstep(0.62, 0.8, ripples) - smoothstep(0.38, 0.2, ripples))[..., None]
    glitter_x = np.exp(-(((x - sun[0]) / (0.05 + 0.18 * depth[:, None])) ** 2))
    lake = mix(lake, rgb("#fff1c9"), glitter_x * smoothstep(0.6, 0.85, ripples) * 0.85)
    scene[top:] = lake
    scene[top : top + max(1, H // 256)] *= 0.75  # a thin dark band where the far shore meets the water
    scene = paste_drawing(scene, lambda pen: rowing_boat(pen, W, H))

    # The near shore: an uneven grassy bank with tall-grass texture, darker towards the bottom edge.
    bank_line = 0.85 - 0.05 * fractal_noise(stream(seed, "bank"), 1, W, cell=0.5 * H, octaves=4)[0]
    bank_line += 0.04 * (x[0] - 0.7) ** 2  # rising a little towards the sides
    grass = fractal_noise(stream(seed, "grass"), H, W, cell=0.06 * H, octaves=5, gain=0.65, stretch=0.2)
    bank = mix(plain(rgb("#3e6b2a"), H, W), rgb("#9ab552"), grass)
    bank = mix(bank, rgb("#1e3315"), 0.55 * smoothstep(bank_line[None, :], 1.0, y))
    scene = mix(scene, bank, smoothstep(bank_line[None, :] - 1.0 / H, bank_line[None, :] + 1.0 / H, y))
    scene = paste_drawing(scene, lambda pen: shore_village(pen, stream(seed, "village"), W, H, bank_line))

    vignette = 1.0 - 0.22 * (((x - 0.5 * W / H) / (W / H)) ** 2 + (y - 0.5) ** 2)
    return to_uint8(scene * vignette[..., None])


def shore_village(pen: Pen, rng, W: int, H: int, bank_line: np.ndarray) -> None:
    """Grass, flowers, houses and trees on the near bank; everything sized from H so small renders look alike."""
    for _ in range(W * 6):  # grass blades, longer nearer the viewer, leaning a little with the wind
        bx = rng.uniform(0, W)
        by = rng.uniform(bank_line[int(bx)] * H, H * 1.02)
        near = (by / H - 0.8) / 0.2
        length = H * (0.008 + 0.03 * near) * rng.uniform(0.6, 1.3)
        lean = rng.normal(0.25, 0.2) * length
        tone = rng.uniform(0.55, 1.25) * (0.8 + 0.3 * near)
        pen.line([(bx, by), (bx + lean, by - length)], np.minimum(255, np.array((70, 120, 45)) * tone), width=1)
    for _ in range(W // 12):  # meadow flowers
        fx = rng.uniform(0, W)
        fy = rng.uniform(bank_line[int(fx)] * H + 0.02 * H, H)
        petal = [(240, 215, 80), (240, 238, 228), (240, 215, 80), (200, 80, 60)][rng.integers(4)]
        pen.disc(fx, fy, H * (0.0015 + 0.004 * (fy / H - 0.8) / 0.2), petal)

    def ground(px):
        return bank_line[int(np.clip(px, 0, W - 1))] * H + 0.02 * H

    def pine(px, size):
        base = ground(px) + rng.uniform(0, 0.03) * H
        pen.box(px - size * 0.05, base - size * 0.25, px + size * 0.05, base, (60, 40, 25))
        for level in range(4):  # tiers of branches, narrower and lighter towards the top
            half, bottom = size * (0.42 - 0.08 * level), base - size * (0.15 + 0.2 * level)
            pen.polygon(
                [(px - half, bottom), (px + half, bottom), (px, bottom - size * 0.4)],
                (20 + 8 * level, 52 + 10 * level, 30 + 4 * level),
            )

    def leafy(px, size):
        base = ground(px) + rng.uniform(0, 0.03) * H
        pen.box(px - size * 0.06, base - size * 0.45, px + size * 0.06, base, (75, 52, 32))
        for _ in range(9):  # a crown of overlapping leaf clusters, lit from the upper right
            cx, cy = px + rng.normal(0, 0.16) * size, base - size * (0.7 + rng.normal(0, 0.1))
            light = np.clip((cx - px) / size + (base - size * 0.7 - cy) / size + 0.5, 0, 1)
            pen.disc(cx, cy, size * rng.uniform(0.17, 0.27), np.array((34, 70, 28)) + np.array((70, 80, 28)) * light)

    def house(px, wide, wall, roof):
        base = ground(px) + 0.01 * H
        tall = wide * 0.7
        left, right, top, ridge = px - wide / 2, px + wide / 2, base - tall, base - tall * 1.6
        pen.box(left, top, right, base, wall)
        pen.box(right - wide * 0.28, top, right, base, np.array(wall) * 0.72)  # the side in shade
        pen.polygon(
            [
                (left - wide * 0.08, top),
                (right + wide * 0.08, top),
                (px + wide * 0.08, ridge),
                (px - wide * 0.12, ridge),
            ],
            roof,
        )
        pen.box(px + wide * 0.18, top - tall * 0.55, px + wide * 0.28, top - tall * 0.2, (90, 60, 50))  # chimney
        pen.box(left + wide * 0.14, base - tall * 0.55, left + wide * 0.28, base, (70, 45, 30))  # door
        for wx in (left + wide * 0.42, left + wide * 0.6):
            pen.box(wx, top + tall * 0.25, wx + wide * 0.12, top + tall * 0.5, (250, 214, 120), outline=(60, 45, 35))

    for px, size in ((0.05 * W, 0.16 * H), (0.93 * W, 0.2 * H), (0.98 * W, 0.15 * H), (0.47 * W, 0.12 * H)):
        pine(px, size)
    house(0.17 * W, 0.1 * H, (222, 206, 180), (150, 52, 40))
    house(0.30 * W, 0.085 * H, (196, 120, 82), (90, 60, 55))
    leafy(0.39 * W, 0.13 * H)
    house(0.60 * W, 0.095 * H, (236, 230, 215), (60, 72, 100))
    leafy(0.72 * W, 0.15 * H)
    leafy(0.24 * W, 0.1 * H)


def rowing_boat(pen: Pen, W: int, H: int) -> None:
    """A small red rowing boat on the lake, with a faint reflection, a pale gunwale and an oar."""
    bx, by, half = 0.40 * W, 0.70 * H, 0.055 * H
    hull = [
        (bx - half, by - 0.008 * H),
        (bx + 1.15 * half, by - 0.014 * H),
        (bx + 0.75 * half, by + 0.012 * H),
        (bx - 0.8 * half, by + 0.012 * H),
    ]
    pen.polygon([(hx, 2 * (by + 0.012 * H) - hy) for hx, hy in hull], (70, 30, 28, 120))  # reflection
    pen.polygon(hull, (165, 48, 36))
    pen.line(hull[:2], (240, 230, 205), width=0.004 * H)
    pen.line([(bx - 0.2 * half, by - 0.01 * H), (bx + 0.5 * half, by - 0.035 * H)], (110, 80, 50), width=0.003 * H)


# ---------------------------------------------------------------- (b) swirling brush strokes

NIGHT_BLUES = [rgb(c) for c in ("#0b1a4a", "#16307a", "#1f4fa0", "#3a6fc0", "#6c9bd6", "#a9c8e8", "#2a5d8f")]
STAR_COLOURS = [rgb(c) for c in ("#fffbe8", "#fbe77a", "#f4c430", "#e8a317")]
HILL_COLOURS = [rgb(c) for c in ("#0d2430", "#1b3d4a", "#2c5a5f", "#16304a", "#4a6a4a")]
CYPRESS_COLOURS = [rgb(c) for c in ("#0c1a12", "#27452c", "#0f2a2e", "#4c6b3a", "#3d2f1c", "#1a3322")]


def swirls(size: int = 512, seed: int = 2) -> np.ndarray:
    """A Van Gogh-like night: thick short strokes that follow a swirling flow, in blues, yellows and whites."""
    S = size
    y, x = np.mgrid[0:S, 0:S].astype(np.float32) / S

    # The flow: a stream function's contour lines are the strokes' paths, so the field never converges or splits.
    stars = [
        (0.78, 0.16, 0.085, 1.0),
        (0.22, 0.22, 0.05, 0.8),
        (0.50, 0.11, 0.04, 0.7),
        (0.62, 0.42, 0.045, 0.7),
        (0.10, 0.45, 0.035, 0.6),
        (0.36, 0.36, 0.03, 0.6),
        (0.92, 0.50, 0.035, 0.6),
    ]
    hills = 0.74 + 0.05 * np.sin(x * 7.0 + 1.0) + 0.03 * np.sin(x * 17.0)
    psi = 0.2 * (y - 0.5) + 0.015 * (fractal_noise(stream(seed, "wind"), S, S, cell=0.3 * S, octaves=3) - 0.5)
    for cx, cy, radius, strength in stars:
        psi += 0.02 * strength * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2.2 * radius) ** 2)
    for cx, cy, radius, spin in ((0.42, 0.26, 0.12, 1.0), (0.62, 0.28, 0.1, -0.8)):  # two big swirling eddies
        psi += 0.03 * spin * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / radius**2)
    in_hills = smoothstep(-0.01, 0.01, y - hills)
    psi = psi * (1 - in_hills) + (y - hills) * 0.5 * in_hills  # strokes along the hills' contours
    cypress = np.clip(1 - np.abs(x - 0.16) / (0.07 * np.clip((y - 0.2) / 0.8, 0, 1) ** 0.7 + 1e-3), 0, 1) * (y > 0.2)
    in_cypress = smoothstep(0.0, 0.1, cypress)
    psi = psi * (1 - in_cypress) + (x - 0.16) * 0.3 * in_cypress  # flame-like vertical strokes
    dpsi_dy, dpsi_dx = np.gradient(psi)
    angle = np.arctan2(-dpsi_dx, dpsi_dy)  # along the contour lines

    # The colour under each stroke: blue bands following the flow, stars as rings of yellow and white.
    band = (psi * 90.0 + 0.6 * fractal_noise(stream(seed, "sky bands"), S, S, cell=0.1 * S, octaves=3)) % 1.0
    index = np.floor(band * len(NIGHT_BLUES)).astype(int) % len(NIGHT_BLUES)
    colour = np.stack(NIGHT_BLUES)[index]
    colour = mix(colour, rgb("#0b1a4a"), 0.3 * smoothstep(0.4, 0.75, y))  # darker towards the hills
    for cx, cy, radius, _ in stars:
        r = np.hypot(x - cx, y - cy) / radius
        ring = np.stack(STAR_COLOURS)[np.clip((r * 3.0).astype(int), 0, 3)]
        colour = mix(colour, ring, smoothstep(1.25, 0.95, r))
        halo = (np.sin(r * 9.0) > 0.3) & (r < 2.2) & (r > 1.2)  # concentric halos of pale light
        colour = mix(colour, rgb("#c9dcf0"), 0.7 * halo)
    moon = (np.hypot(x - 0.78, y - 0.16) < 0.06) & (np.hypot(x - 0.805, y - 0.145) > 0.05)  # the first star's crescent
    colour = mix(colour, rgb("#f29f05"), moon.astype(np.float32))
    hill_band = ((y - hills) * 40 + 0.8 * fractal_noise(stream(seed, "hill bands"), S, S, 0.08 * S, 3)) % 1.0
    hill_index = np.floor(hill_band * 5).astype(int)
    colour = mix(colour, np.stack(HILL_COLOURS)[hill_index % 5], in_hills)
    windows = stream(seed, "village").uniform((0.3, 0.03), (0.98, 0.1), size=(int(0.08 * S), 2))
    for wx, depth in windows:  # lit windows of a village in the valley
        wy = 0.74 + 0.05 * np.sin(wx * 7.0 + 1.0) + 0.03 * np.sin(wx * 17.0) + depth
        colour = mix(colour, rgb("#f4c430"), 0.9 * ((np.abs(x - wx) < 0.006) & (np.abs(y - wy) < 0.008)))
    cypress_band = (x * 45.0 + 1.5 * fractal_noise(stream(seed, "cypress"), S, S, 0.06 * S, 3, stretch=0.3)) % 1.0
    cypress_index = np.floor(cypress_band * len(CYPRESS_COLOURS)).astype(int) % len(CYPRESS_COLOURS)
    colour = mix(colour, np.stack(CYPRESS_COLOURS)[cypress_index], in_cypress)

    # Paint: an underpainting, then layers of ever smaller strokes traced through the field all at once.
    canvas_size = S * SUPERSAMPLE
    under = Image.fromarray(to_uint8(colour)).resize((canvas_size, canvas_size), Image.Resampling.BILINEAR)
    pen = Pen(ImageDraw.Draw(under), SUPERSAMPLE)
    strokes = stream(seed, "strokes")
    for count, length, width in ((S * 14, 0.05, 0.016), (S * 20, 0.035, 0.011), (S * 16, 0.022, 0.007)):
        paint_strokes(pen, strokes, angle, colour, count, length * S, width * S)
    return np.asarray(under.resize((S, S), Image.Resampling.LANCZOS))


def paint_strokes(pen: Pen, rng, angle, colour, count: int, length: float, width: float) -> None:
    """Trace `count` strokes along `angle` from random points; draw each thick, round-ended, with bristle streaks."""
    S = angle.shape[0]
    steps = 6
    points = np.empty((steps + 1, count, 2), np.float32)
    points[0] = rng.uniform(0, S, size=(count, 2))
    for step in range(steps):  # midpoint (RK2) steps keep curved strokes on their contour line
        here = points[step]
        halfway = here + 0.5 * (length / steps) * direction(angle, here)
        points[step + 1] = here + (length / steps) * direction(angle, halfway)
    start = np.clip(points[0].astype(int), 0, S - 1)
    paint = colour[start[:, 1], start[:, 0]] * rng.normal(1.0, 0.08, size=(count, 1))  # each brushload differs
    widths = width * rng.uniform(0.7, 1.3, size=count)
    along = points[1] - points[0]
    across = np.stack([-along[:, 1], along[:, 0]], axis=1) / (np.linalg.norm(along, axis=1, keepdims=True) + 1e-6)
    for k in range(count):
        path, fill = points[:, k], to_uint8(paint[k])
        pen.line(path, fill, widths[k])
        for end in (path[0], path[-1]):  # Pillow's lines end square; a brush leaves round ends
            pen.disc(end[0], end[1], widths[k] / 2, fill)
        for offset, shade in ((-0.25, 1.18), (0.25, 0.82)):  # bristles leave a lighter and a darker streak
            pen.line(path + across[k] * offset * widths[k], to_uint8(paint[k] * shade), widths[k] * 0.25)


def direction(angle: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Unit vectors of the field at (x, y) points, nearest pixel, clamped to the picture."""
    S = angle.shape[0]
    a = angle[np.clip(points[:, 1].astype(int), 0, S - 1), np.clip(points[:, 0].astype(int), 0, S - 1)]
    return np.stack([np.cos(a), np.sin(a)], axis=1)


# ---------------------------------------------------------------- (c) stained glass

WARM_GLASS = [rgb(c) for c in ("#b3121b", "#d9381e", "#ef7d16", "#f6b21b", "#f3d04a", "#8c1239", "#c2452d")]
COOL_GLASS = [rgb(c) for c in ("#173f8f", "#0e6f6a", "#1e7a3a")]
CORNER_GLASS = [rgb(c) for c in ("#7a0f26", "#a3161f", "#c4521a", "#d98a1c", "#5c1a4a", "#173f8f")]  # deeper, to frame


def mosaic(size: int = 512, seed: int = 3) -> np.ndarray:
    """A stained-glass rose window: Voronoi cells of warm glass in dark lead, lit from behind."""
    rng = stream(seed, "cells")
    S = size
    centre = S / 2
    cells, colours = [], []
    # Rings of panes whose counts divide each other, turned half a pane on alternate rings, so spokes and petals
    # line up like a rose window's tracery; a little jitter keeps it hand-made.
    rings = ((0.0, 1), (0.07, 6), (0.145, 12), (0.225, 12), (0.305, 24), (0.385, 24))
    for ring, (radius, n) in enumerate(rings):
        turn = np.pi / n * (ring % 2)
        for k in range(n):
            a = turn + 2 * np.pi * k / n + rng.normal(0, 0.03)
            r = radius * S * rng.uniform(0.97, 1.03)
            cells.append((centre + r * np.cos(a), centre + r * np.sin(a)))
            if ring == 0:
                colours.append(rgb("#f3d04a"))
            elif ring >= 3 and k % 4 == 0:  # a cool accent on every fourth spoke of the outer rings
                colours.append(COOL_GLASS[ring % 3])
            else:  # petals: two warm colours alternating around each ring
                colours.append(WARM_GLASS[(2 * ring + k % 2) % len(WARM_GLASS)])
    spacing = max(4, S // 12)
    for gy in range(0, S, spacing):  # the corners: a jittered grid of panes about as big as the rose's outer ones
        for gx in range(0, S, spacing):
            px, py = gx + rng.uniform(0, spacing), gy + rng.uniform(0, spacing)
            if np.hypot(px - centre, py - centre) > 0.46 * S:
                cells.append((px, py))
                colours.append(CORNER_GLASS[rng.integers(len(CORNER_GLASS))])
    cells, colours = np.array(cells, np.float32), np.stack(colours)

    # For every pixel the nearest two cells, in bands of rows to keep memory small.
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    nearest = np.empty((S, S), int)
    edge = np.empty((S, S), np.float32)
    for top in range(0, S, 64):
        px = np.stack([xx[top : top + 64].ravel(), yy[top : top + 64].ravel()], axis=1)
        d2 = ((px[:, None, :] - cells[None, :, :]) ** 2).sum(-1)
        first, second = np.argpartition(d2, 1, axis=1)[:, :2].T  # kth=1: the nearest, then the second nearest
        rows = np.arange(len(px))
        # Distance to the bisector between the two cells: the exact distance to the cell wall, so lead is even.
        gap = np.linalg.norm(cells[second] - cells[first], axis=1)
        edge_distance = (d2[rows, second] - d2[rows, first]) / (2 * gap + 1e-6)
        nearest[top : top + 64] = first.reshape(-1, S)
        edge[top : top + 64] = edge_distance.reshape(-1, S)
    ring_distance = np.abs(np.hypot(xx - centre, yy - centre) - 0.445 * S)  # a round frame around the rose
    edge = np.minimum(edge, ring_distance - 0.006 * S)

    # Glass: brighter in each pane's middle where the light comes through, and mottled like blown glass.
    glass = colours[nearest]
    centre_distance = np.hypot(xx - cells[nearest, 0], yy - cells[nearest, 1])
    glow = np.exp(-((centre_distance / (0.05 * S)) ** 2))
    mottle = fractal_noise(stream(seed, "mottle"), S, S, cell=0.08 * S, octaves=5, gain=0.6)
    glass = glass * (0.72 + 0.2 * mottle + 0.35 * glow)[..., None]
    glass = mix(glass, rgb("#fff4d6"), 0.25 * glow * mottle)
    lead_width = 0.006 * S
    lead = smoothstep(lead_width + 1.0, lead_width - 0.5, edge)
    came = rgb("#2a2520") * (1.0 + 0.6 * np.clip(1 - edge / max(lead_width, 1e-6), 0, 1))[..., None]  # rounded lead
    return to_uint8(glass * (1 - lead[..., None]) + came * lead[..., None])


# ---------------------------------------------------------------- writing the files

PICTURES = {
    "content_landscape.png": lambda: landscape(768, 512, seed=8),
    "style_swirls.png": lambda: swirls(512, seed=2),
    "style_mosaic.png": lambda: mosaic(512, seed=3),
}


def main(names: list[str]) -> None:
    for name, draw in PICTURES.items():
        if names and name not in names:
            continue
        path = HERE / name
        Image.fromarray(draw()).save(path, optimize=True)
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
