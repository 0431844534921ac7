"""The README's pictures, made by the project from its own example images (assets/): results and each control.

    python assets/make_readme_pictures.py [--size 384]   # about 6 minutes on 2 CPU cores

The presets side by side come from `python bench/speed.py --sheet` instead, which times them.
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from stylize import Settings, load_network, preset, stylize
from stylize.core import images

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
OUT = ASSETS / "readme"


def run(content, style, size, mask=None, preset_name="balanced", **changes):
    # balanced's steps, not its time: the same pictures on any machine (they were made so, before time budgets)
    settings = preset(preset_name, size=size, **{"steps": Settings().steps, **changes})
    return list(stylize(content, style, settings, network=NETWORK, mask=mask))[-1]


def labelled_row(pictures: list[np.ndarray], labels: list[str], height: int) -> Image.Image:
    """Pictures side by side at one height, each with its label underneath."""
    tiles = []
    for picture, label in zip(pictures, labels):
        tile = Image.fromarray(picture)
        tile = tile.resize((round(tile.width * height / tile.height), height), Image.LANCZOS)
        canvas = Image.new("RGB", (tile.width, height + 28), "white")
        canvas.paste(tile, (0, 0))
        ImageDraw.Draw(canvas).text((6, height + 7), label, fill="black")
        tiles.append(canvas)
    row = Image.new("RGB", (sum(t.width for t in tiles) + 8 * (len(tiles) - 1), tiles[0].height), "white")
    x = 0
    for tile in tiles:
        row.paste(tile, (x, 0))
        x += tile.width + 8
    return row


def main():
    global NETWORK
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=384)
    size = parser.parse_args().size
    NETWORK = load_network("auto")
    OUT.mkdir(exist_ok=True)
    content = images.load_image(ASSETS / "content_landscape.png")
    swirls = images.load_image(ASSETS / "style_swirls.png")
    mosaic = images.load_image(ASSETS / "style_mosaic.png")
    photo = images.to_uint8(images.resize_longer_side(content, size))
    to8 = lambda picture: images.to_uint8(images.resize_longer_side(picture, size))  # noqa: E731

    results = [run(content, swirls, size).image, run(content, mosaic, size).image]
    labelled_row(
        [photo, to8(swirls), results[0], to8(mosaic), results[1]],
        ["photo", "painting", "balanced preset", "painting", "balanced preset"],
        200,
    ).save(OUT / "results.png")

    sky = np.zeros(content.shape[:2], np.float32)
    sky[: content.shape[0] * 2 // 5] = 1.0  # the style only in the sky
    controls = [
        (run(content, swirls, size, colors="luminance").image, "keep the photo's colours"),
        (run(content, [swirls, mosaic], size, style_blend=(0.5, 0.5)).image, "blend two paintings"),
        (run(content, swirls, size, mask=sky).image, "painted mask: sky only"),
        (run(content, swirls, size, layer_emphasis=-1.0).image, "stroke size: fine texture"),
        (run(content, swirls, size, layer_emphasis=1.0).image, "stroke size: large shapes"),
        (run(content, swirls, size, style_scale=2.0).image, "style scale 2 (bigger strokes)"),
    ]
    labelled_row([c[0] for c in controls[:3]], [c[1] for c in controls[:3]], 220).save(OUT / "controls-1.png")
    labelled_row([c[0] for c in controls[3:]], [c[1] for c in controls[3:]], 220).save(OUT / "controls-2.png")
    print(f"Wrote {OUT}/results.png, controls-1.png, controls-2.png")


if __name__ == "__main__":
    main()
