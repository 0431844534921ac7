"""Poster benchmark: time, peak memory, whole-picture quality, up-close quality and seams of large outputs.

    python bench/poster.py [--sizes 1024,2048,4096] [--pairs tubingen:starry_night,...] [--preset balanced]
                           [--precision auto|float32] [--tile-steps N] [--save DIR]
    ONEDNN_MAX_CPU_ISA=AVX2 taskset -c 0 python bench/poster.py --precision float32   # the slow mimic

Each size and pair runs in a fresh process with the preset's default time for that size (settings.preset_seconds):
- seconds: from the click (pictures decoded) to the last picture; the budget it was given beside it;
- steps: the base's at each scale, then on the tiles, and the tile pace loading measured (s a step a tile megapixel);
- peak MB: resident memory above the loaded process (the network loaded and its step traced), VmHWM after a reset;
- seen whole, at 512 px: style match (Magenta's embedding), Gram match on VGG16-HED (not the optimizer's VGG19)
  and content keep (Sobel correlation), as bench/quality.py defines them;
- up close, distances (lower is closer) between 384 px crops at 1:1 and 384 px crops of the painting at its own
  resolution, for the result, for the base enlarged (what a 512 px result gives) and for that with a grain as strong
  as the painting's finest detail (what the measures must also fail):
  - strokes: the total variation distance of the crops' histograms of (gradient strength, orientation coherence)
    (no network: an enlarged picture's gradients are weak, a grain's have no direction);
  - marks: the relative distance of mean VGG16-HED Gram matrices at block1-3 (not the optimizer's VGG19), which see
    the marks' shapes up to 40 px, where grain has none;
- seam: the mean step between 8 px strips on either side of every tile border, over the same at every other
  position (1.00: the borders are like anywhere else).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.ndimage

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "images"
CROP = 384
DEFAULT_PAIRS = "tubingen:starry_night,tubingen:great_wave_grey,tubingen:udnie,tubingen:the_scream"


SKIMAGE_PHOTOS = ("astronaut", "rocket", "coffee")  # bench/quality.py's calibration photos (needs scikit-image)


def picture(name: str) -> np.ndarray:
    """A photo or painting of bench/quality.py's calibration set: from ../shared/images, scikit-image's sample photos
    or assets/ (style_*), or a variant of one: NAME_grey, NAME_dark."""
    from PIL import Image

    base = name.removesuffix("_grey").removesuffix("_dark")
    if base in SKIMAGE_PHOTOS:
        import skimage.data

        image = Image.fromarray(getattr(skimage.data, base)()).convert("RGB")
    elif base.startswith("style_"):
        image = Image.open(ROOT / "assets" / f"{base}.png").convert("RGB")
    else:
        image = Image.open(SHARED / f"{base}.jpg").convert("RGB")
    if name.endswith("_grey"):
        image = image.convert("L").convert("RGB")
    array = np.asarray(image)
    return (array * 0.45).astype(np.uint8) if name.endswith("_dark") else array


def crops(array: np.ndarray, count: int = 6, side: int = CROP) -> list[np.ndarray]:
    """count crops of side px (at most the picture's shorter side) spread over a picture (the same places for
    pictures of one shape). A 512 px landscape of 3:2 is 341 px high."""
    height, width = array.shape[:2]
    side = min(side, height, width)
    rng = np.random.default_rng(0)
    return [
        array[y : y + side, x : x + side]
        for y, x in zip(rng.integers(0, height - side + 1, count), rng.integers(0, width - side + 1, count))
    ]


def stroke_features(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's log gradient strength and orientation coherence (structure tensor at 2 px): a brush mark is a
    strong, coherent gradient; an enlarged picture's are weak, a grain's incoherent."""
    grey = crop.astype(np.float32).mean(axis=-1) / 255.0
    dy, dx = scipy.ndimage.sobel(grey, 0), scipy.ndimage.sobel(grey, 1)
    xx, yy, xy = (scipy.ndimage.gaussian_filter(a, 2.0) for a in (dx * dx, dy * dy, dx * dy))
    coherence = np.sqrt((xx - yy) ** 2 + 4 * xy**2) / (xx + yy + 1e-6)
    return np.log10(np.sqrt(xx + yy) + 1e-3).ravel(), coherence.ravel()


def stroke_histogram(pictures: list[np.ndarray]) -> np.ndarray:
    strength, coherence = (np.concatenate(values) for values in zip(*map(stroke_features, pictures)))
    counts, _, _ = np.histogram2d(strength, coherence, bins=(24, 12), range=((-3.0, 0.7), (0.0, 1.0)))
    return counts / counts.sum()


def mark_grams(crop: np.ndarray) -> list[np.ndarray]:
    import tensorflow as tf

    from stylize.gatys.losses import gram_matrices
    from stylize.gatys.networks import load_network
    from stylize.poster.detail import DETAIL_LAYERS

    network = load_network("vgg16-hed").truncated(DETAIL_LAYERS)
    grams = gram_matrices(network(tf.constant(crop[None].astype(np.float32) / 255.0)), DETAIL_LAYERS)
    return [grams[name].numpy() for name in DETAIL_LAYERS]


def up_close(result: np.ndarray, painting: np.ndarray) -> dict[str, float]:
    """How far 384 px crops of result are from 384 px crops of the painting at its own resolution: strokes, the
    total variation distance of their (gradient strength, coherence) histograms; marks, the mean relative distance
    of their mean VGG16-HED Gram matrices."""
    ours, theirs = crops(result), crops(painting)
    strokes = 0.5 * np.abs(stroke_histogram(ours) - stroke_histogram(theirs)).sum()
    target = [np.mean(layer, axis=0) for layer in zip(*[mark_grams(c) for c in theirs])]
    grams = [np.mean(layer, axis=0) for layer in zip(*[mark_grams(c) for c in ours])]
    marks = np.mean([np.linalg.norm(g - t) / np.linalg.norm(t) for g, t in zip(grams, target)])
    return {"strokes": float(strokes), "marks": float(marks)}


def grained(picture: np.ndarray, painting: np.ndarray) -> np.ndarray:
    """picture with a pixel grain as strong as the painting's finest detail: what the up-close measures must fail."""
    from stylize.core import images

    fine = (
        painting.astype(np.float32)
        - images.resize(
            images.resize(painting.astype(np.float32) / 255.0, (painting.shape[0] // 2, painting.shape[1] // 2)),
            painting.shape[:2],
        )
        * 255.0
    )
    noise = np.random.default_rng(0).normal(0.0, fine.std(), picture.shape)
    return np.clip(picture + noise, 0, 255).astype(np.uint8)


def seam_ratio(result: np.ndarray, borders: tuple[list[int], list[int]], strip: int = 8) -> float:
    """The mean step between strip-px means on either side of the tile borders over that at every position."""
    grey = result.astype(np.float32).mean(axis=-1)
    ratios = []
    for axis, positions in enumerate(borders):
        lines = grey if axis == 1 else grey.T  # columns' steps for vertical borders
        means = np.cumsum(np.pad(lines, ((0, 0), (1, 0))), axis=1)
        window = (means[:, strip:] - means[:, :-strip]) / strip  # window[:, i]: mean of columns i .. i+strip-1
        steps = np.abs(window[:, strip:] - window[:, :-strip]).mean(axis=0)  # step at column i + strip
        at = [p - strip for p in positions if strip <= p < lines.shape[1] - strip]
        if at:
            ratios.append(steps[at].mean() / steps.mean())
    return float(np.mean(ratios)) if ratios else 1.0


def child(arguments) -> None:
    """One poster in this process: prints a JSON line of its figures."""
    from stylize import load_network, preset
    from stylize.core import images, paces
    from stylize.poster import run
    from stylize.transfer import stylize_pictures, warm_up

    photo_name, painting_name = arguments.pair.split(":")
    photo, painting = picture(photo_name), picture(painting_name)
    if arguments.tile_steps is not None:  # a sweep of the tiles' time: the steps the preset's time is made for
        from stylize.core import settings as defaults

        defaults.TILE_STEPS[arguments.preset] = arguments.tile_steps
    network = load_network()
    warm_up(network, arguments.precision)  # measures the tile pace the preset's time at a poster's size counts
    settings = preset(arguments.preset, size=arguments.size, precision=arguments.precision)
    content = images.load_image(photo)
    styles = [images.load_image(painting)]
    with open("/proc/self/clear_refs", "w") as reset:
        reset.write("5")
    base = status_bytes("VmRSS")
    started = time.perf_counter()
    last, base_picture = None, None
    for record in stylize_pictures(content, styles, settings, network=network, started=started):
        if max(record.image.shape[:2]) == min(settings.size, 512) or base_picture is None:
            base_picture = record.image
        last = record
    seconds = time.perf_counter() - started
    peak = status_bytes("VmHWM") - base
    result = last.image
    if arguments.save:
        folder = Path(arguments.save)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{arguments.pair.replace(':', '-')}-{arguments.size}-{arguments.precision}"
        images.save_png(folder / f"{stem}.png", result)
        images.save_png(folder / f"{stem}-base.png", base_picture)
    figures = judged(result, base_picture, photo, painting, network)
    shape = result.shape[:2]
    tiles = run.poster_tiles(shape, settings) if settings.poster else []
    borders = (
        sorted({t.top for t in tiles if t.top} | {t.bottom for t in tiles if t.bottom < shape[0]}),
        sorted({t.left for t in tiles if t.left} | {t.right for t in tiles if t.right < shape[1]}),
    )
    steps = ""
    if last.settings:
        steps = last.settings.replace(tile_steps=(), tile_detail=None).steps_text()
        if last.settings.tile_detail is not None:
            steps += f" (detail share {last.settings.tile_detail:g})"
    print(
        json.dumps(
            {
                "seconds": seconds,
                "budget": settings.seconds,
                "tile pace": paces.tile_step(settings.precision),
                "peak": peak,
                "steps": steps,
                "tile steps": sum(last.settings.tile_steps) if last.settings else 0,
                "tiles": len(tiles),
                "seam": seam_ratio(result, borders) if tiles else float("nan"),
                **figures,
            }
        )
    )


def judged(result, base_picture, photo, painting, network) -> dict[str, float]:
    """Seen whole at 512 px, and up close: the result, the base enlarged (a 512 px result), and that with grain."""
    from stylize.core import images

    sys.path.insert(0, str(ROOT / "bench"))
    from stylize.gatys.networks import load_network

    from quality import content_keep, gram_match, style_match

    whole = images.to_uint8(images.resize_longer_side(result.astype(np.float32) / 255.0, 512))
    enlarged = images.to_uint8(images.resize(base_picture.astype(np.float32) / 255.0, result.shape[:2]))
    figures = {
        "style": float(style_match(whole, photo, painting)),
        "content": float(content_keep(whole, photo)),
        "gram16": float(gram_match(whole, photo, painting, load_network("vgg16-hed"))),
    }
    for name, picture in (("", result), ("enlarged ", enlarged), ("grain ", grained(enlarged, painting))):
        figures.update({name + key: value for key, value in up_close(picture, painting).items()})
    return figures


def status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1024,2048,4096")
    parser.add_argument("--pairs", default=DEFAULT_PAIRS)
    parser.add_argument("--preset", default="balanced")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--tile-steps", type=int, help="the steps on every tile the preset's time is made for")
    parser.add_argument("--save", help="keep each result (and its base) as a PNG in this folder")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pair", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments)
        return
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "(all)")
    print(
        f"CPU: {cpu}; ONEDNN_MAX_CPU_ISA={isa}; cores {sorted(os.sched_getaffinity(0))}; preset {arguments.preset}"
        + (f", time for {arguments.tile_steps} steps a tile" if arguments.tile_steps is not None else "")
    )
    print(
        "| size | pair | s (budget) | peak MB | steps | style, VGG16 Grams, content @512 "
        "| strokes: ours, enlarged, grain | marks: ours, enlarged, grain | seam |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for size in map(int, arguments.sizes.split(",")):
        for pair in arguments.pairs.split(","):
            command = [sys.executable, __file__, "--child", "--pair", pair, "--size", str(size)]
            command += ["--preset", arguments.preset, "--precision", arguments.precision]
            if arguments.tile_steps is not None:
                command += ["--tile-steps", str(arguments.tile_steps)]
            if arguments.save:
                command += ["--save", arguments.save]
            output = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [line for line in output.stdout.splitlines() if line.startswith("{")]
            if not lines:
                print(f"| {size} | {pair} | failed: {output.stderr.strip().splitlines()[-1:]} |")
                continue
            f = json.loads(lines[-1])
            print(
                f"| {size} | {pair} | {f['seconds']:.0f} ({f['budget']:g}) | {f['peak'] / 2**20:.0f} | "
                f"{f['steps']} + {f['tile steps']} on {f['tiles']} tiles (pace {f['tile pace']:.1f}) | "
                f"{f['style']:.2f}, {f['gram16']:.2f}, {f['content']:.2f} | "
                f"{f['strokes']:.2f}, {f['enlarged strokes']:.2f}, {f['grain strokes']:.2f} | "
                f"{f['marks']:.2f}, {f['enlarged marks']:.2f}, {f['grain marks']:.2f} | "
                f"{f['seam']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
