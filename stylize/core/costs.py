"""What each kind of job costs the machine, one row a kind: its peak memory, and an optimizer run's work.

A new kind of job (a frame, a tile, a clip) adds a row to MEMORY, not a module; limits.py checks and reserves
what these say.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from . import images
from .settings import DETAIL_STEPS, POSTER_BASE, POSTER_FROM, Settings, style_size


@dataclass(frozen=True)
class MemoryCost:
    """A job's peak resident memory beyond the loaded process: a fixed part and a part per pixel it works on."""

    fixed: int  # bytes, whatever the size
    per_pixel: float  # bytes per pixel

    def bytes(self, pixels: float) -> int:
        return int(self.fixed + self.per_pixel * pixels)


MiB = 2**20
MEMORY = {
    # An optimizer run at its output size, fitted to bench/memory.py (balanced preset, 4:3 photos; figures in
    # bench/README.md): offline VGG16 217 MB above the loaded process at 128 px, 819 MB at 512 px, 1625 MB at
    # 768 px (least squares 153 MB + 3486 B/px); ImageNet VGG19, deeper, 346 MB at 256 px, 830 MB at 512 px,
    # 1712 MB at 768 px (163 MB + 3654 B/px). This row lies above every measured peak of both networks (the fixed
    # part: TensorFlow's workspace, the traced step, the instant start's networks).
    "optimize": MemoryCost(200 * MiB, 3700),
    # One fast-network call (bench/memory.py --fast, 4:3 photos): the Instant network 36 MB at 512 px and 283 MB
    # at 2048 px, a built-in style 65 MB and 1033 MB; this row lies above both at a square.
    "fast": MemoryCost(64 * MiB, 350),
    # Above FAST_WHOLE_SIDE a fast network paints in tiles (fast/tiled.py) over its picture of the whole at most that
    # large: the full-size float32 picture, the guide enlarged, the result and their temporaries, per output pixel.
    # Fitted to bench/memory.py --fast (bench/README.md).
    "fast tiles": MemoryCost(0, 100),
    # A painting's Gram matrices: a forward pass only, holding block1's two 64-channel float32 maps (512 B/px) and
    # the layers read at once, plus TensorFlow's scratch; 1000 B/px is an upper estimate.
    "style pass": MemoryCost(0, 1000),
    # A poster's tiles (stylize/poster/): per output pixel, the float32 picture, the base enlarged, the photo at full
    # size for colors="luminance", the mask, and a record's uint8 copy with its float temporary; fixed, one tile's
    # pass through VGG's first three blocks and back, and L-BFGS's history. The base is painted first and freed
    # before (run_bytes takes the larger); same_whole's full-size temporaries. Above bench/poster.py's peaks at
    # 4096x3072 (bench/README.md): 1.87 GB natively, 1.93 GB in float32.
    "poster": MemoryCost(600 * MiB, 120),
    # Histogram matching sorts each channel of the decoded painting: float32 copies, int64 indices, float64 results.
    "histogram": MemoryCost(0, 64),
    # Decoding an upload, per pixel its header states (images.read_header), as images.load_image does it with a
    # max_side: Pillow holds RGB(A)/CMYK at 4 B/px (L and P at 1, I;16 at 2), ImageOps.exif_transpose copies it,
    # resizing RGBA premultiplies a third copy, and WebP's decoder keeps its own canvas and a bytes copy. Peak RSS
    # above the process (VmHWM after clear_refs, a fresh process each) for 4000x3000 pictures with an EXIF
    # orientation shrunk to 1024: JPEG 3.6 B/px (drafted), 8-bit grey PNG 3.3, palette 3.9, 16-bit grey 4.8, RGB
    # PNG 9.3, RGBA PNG 13.3, lossy WebP 17.6, WebP with alpha 21.6 (48 MP: RGBA PNG 12.6, WebP 20.4). A picture
    # used at its own size also becomes float32 (up to 44 B/px), but those are output pixels, which the rows above
    # count at far more, and their peaks come after the decode's.
    "decode": MemoryCost(0, 24),
    # A clip's run, per output pixel (ffmpeg scales each frame to the output size before Python sees it): the
    # network's call, the frames queued to and from ffmpeg, flow and fusion, and ffmpeg's decoder and encoder, which
    # are processes of their own but the same machine's memory. bench/memory.py --video, a 1280x720 clip through a
    # built-in style (the heavier fast network): this process 35, 137 and 545 MB above its base at 256, 512 and
    # 1024 px (968 B/px), ffmpeg's two 101, 123 and 198 MB (94 MB + 184 B/px). Fixed part: ffmpeg's, with room for
    # decoding a 1080p input.
    "video": MemoryCost(160 * MiB, 1300),
}

FAST_WHOLE_SIDE = 1024  # the largest side a fast network paints whole (fast/bundled.py's BUILTIN_WHOLE)

# What an optimizer step costs besides its output pixels, in output megapixels: L-BFGS evaluates the picture about
# 1.5 times a step (its line search), and each step has a fixed cost (5000 steps at 128 px ran about 600 s).
LBFGS_EVALUATIONS = 1.5
STEP_FIXED_MEGAPIXELS = 0.05
# A poster's tiles: the overlaps add about a third to the pixels, and a step through VGG's first three blocks costs
# about 0.3 of a whole network's (multiply-adds to block3_conv1 over those to block5_conv2, VGG19).
TILE_OVERLAP_SHARE = 1.35
DETAIL_STEP_SHARE = 0.3


def run_shapes(settings: Settings, content: tuple[int, int], styles: Sequence[tuple[int, int]]) -> tuple:
    """What run_bytes counts for a run on decoded pictures of these shapes: (output, paintings at their style
    scale, paintings for histogram matching)."""
    return (
        images.scaled_shape(*content, settings.size),
        [images.scaled_shape(*shape, style_size(settings.whole_size, settings)) for shape in styles],
        list(styles) if settings.colors == "histogram" else [],
    )


def run_bytes(
    shape: tuple[int, int],
    style_shapes: Sequence[tuple[int, int]] = (),
    histogram_shapes: Sequence[tuple[int, int]] = (),
) -> int:
    """A run's peak resident memory beyond the loaded process: the optimized picture at shape (a poster's base, or
    its tiles), each painting's Gram pass at its scaled shape, and histogram matching at the decoded paintings'
    shapes."""
    painted = MEMORY["optimize"].bytes(shape[0] * shape[1])
    if max(shape) > POSTER_FROM:
        base = images.scaled_shape(*shape, POSTER_BASE)
        painted = max(MEMORY["optimize"].bytes(base[0] * base[1]), MEMORY["poster"].bytes(shape[0] * shape[1]))
    return (
        painted
        + MEMORY["style pass"].bytes(sum(h * w for h, w in style_shapes))
        + MEMORY["histogram"].bytes(sum(h * w for h, w in histogram_shapes))
    )


def decode_bytes(pixels: int) -> int:
    """Decoding an upload of pixels (its header's width x height, from images.read_header): the peak it holds."""
    return MEMORY["decode"].bytes(pixels)


def fast_bytes(side: int) -> int:
    """A fast-network call's peak at longer side side (a square, the worst aspect); decoding its uploads is
    counted apart, from their headers (decode_bytes)."""
    whole = min(side, FAST_WHOLE_SIDE)
    return MEMORY["fast"].bytes(whole * whole) + (MEMORY["fast tiles"].bytes(side * side) if side > whole else 0)


def video_bytes(shape: tuple[int, int]) -> int:
    """A clip's run at output shape (stylize.video.output_shape), its ffmpeg processes included."""
    return MEMORY["video"].bytes(shape[0] * shape[1])


def fitting_side(shape: tuple[int, int], needed: int, available: float) -> int:
    """The longer side at which a run on a picture of shape's aspect would fit in available bytes (the rest
    scaled alike)."""
    if max(shape) > POSTER_FROM:  # a poster's tiles: their fixed part stays, the per-pixel part scales
        row = MEMORY["poster"]
        return int(max(shape) * math.sqrt(max(0.0, available - row.fixed) / max(1, needed - row.fixed)))
    fixed = MEMORY["optimize"].fixed
    scale = max(0.0, (available - fixed) / max(1, needed - fixed))
    return int(math.sqrt(scale * shape[0] * shape[1]) * max(shape) / math.sqrt(shape[0] * shape[1]))


def run_work(settings: Settings, shape: tuple[int, int], style_shapes: Sequence[tuple[int, int]] = ()) -> float:
    """A run's work in megapixel-steps, summed over its scales: what its time roughly follows. Each scale's steps
    count their output pixels (times L-BFGS's evaluations) plus a step's fixed cost, and each painting's pass at
    its style scale counts once (its Gram matrices are computed once per scale)."""
    evaluations = LBFGS_EVALUATIONS if settings.optimizer == "lbfgs" else 1.0
    work = 0.0
    for side, steps in settings.schedule():
        output = math.prod(images.scaled_shape(*shape, side)) / 1e6
        paintings = sum(math.prod(images.scaled_shape(*style, style_size(side, settings))) for style in style_shapes)
        work += steps * (output * evaluations + STEP_FIXED_MEGAPIXELS) + paintings / 1e6
    if settings.poster:  # the tiles: every output pixel (and the overlaps) through the shallow layers, each step
        per_tile = sum(settings.tile_steps) / len(settings.tile_steps) if settings.tile_steps else DETAIL_STEPS
        output = math.prod(images.scaled_shape(*shape, settings.size)) / 1e6
        work += per_tile * output * TILE_OVERLAP_SHARE * DETAIL_STEP_SHARE * LBFGS_EVALUATIONS
    return work
