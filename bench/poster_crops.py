"""A contact sheet of 1:1 crops of posters, each across a tile border, beside the painting's own and a 512 px result.

    python bench/poster.py --sizes 512,2048,4096 --save DIR        # the results it reads
    python bench/poster_crops.py DIR -o sheet.png [--old OLD_DIR]    # OLD_DIR: NAME.png, whole-picture 2048 px results

A row per painting: a 256 px crop of the painting at its own resolution; then, at the same place of the photo, the
512 px result enlarged to 2048 px, the old whole-picture 2048 px result (with --old), this poster at 2048 px and at
4096 px. Each poster crop is centred where four tiles meet, so a seam would cross it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from stylize.core import images
from stylize.core.settings import Settings
from stylize.poster.run import poster_tiles

CROP = 256


def corner(shape: tuple[int, int]) -> tuple[int, int]:
    """Where four tiles meet nearest the picture's centre: the middle of their shared overlap."""
    tiles = poster_tiles(shape, Settings(size=max(shape)))
    rows = sorted({(t.top + above.bottom) // 2 for t in tiles for above in tiles if 0 < t.top < above.bottom})
    columns = sorted({(t.left + left.right) // 2 for t in tiles for left in tiles if 0 < t.left < left.right})
    return min(rows, key=lambda y: abs(y - shape[0] / 2)), min(columns, key=lambda x: abs(x - shape[1] / 2))


def crop_at(picture: np.ndarray, centre: tuple[int, int]) -> np.ndarray:
    y = int(np.clip(centre[0] - CROP // 2, 0, picture.shape[0] - CROP))
    x = int(np.clip(centre[1] - CROP // 2, 0, picture.shape[1] - CROP))
    return picture[y : y + CROP, x : x + CROP]


def load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--old", help="a folder of old whole-picture 2048 px results, named PAINTING.png")
    arguments = parser.parse_args()
    folder = Path(arguments.results)
    shared = Path(__file__).resolve().parent.parent.parent / "shared" / "images"
    rows = []
    for poster in sorted(folder.glob("*-2048-auto.png")):
        pair = poster.name.removesuffix("-2048-auto.png")
        painting_name = pair.split("-", 1)[1]
        ours = load(poster)
        centre = corner(ours.shape[:2])
        painting = load(shared / f"{painting_name.removesuffix('_grey')}.jpg")
        if painting_name.endswith("_grey"):
            painting = np.asarray(Image.fromarray(painting).convert("L").convert("RGB"))
        small = load(folder / f"{pair}-512-auto.png").astype(np.float32) / 255.0
        cells = [("painting, 1:1", crop_at(painting, (painting.shape[0] // 2, painting.shape[1] // 2)))]
        cells.append(("512 px, enlarged", crop_at(images.to_uint8(images.resize(small, ours.shape[:2])), centre)))
        old = Path(arguments.old or "") / f"{painting_name}.png"
        if arguments.old and old.is_file():
            cells.append(("old 2048 px", crop_at(load(old), centre)))
        cells.append(("poster 2048 px", crop_at(ours, centre)))
        large = folder / f"{pair}-4096-auto.png"
        if large.is_file():
            picture = load(large)
            cells.append(("poster 4096 px", crop_at(picture, corner(picture.shape[:2]))))
        rows.append(cells)
    width = max(len(cells) for cells in rows) * (CROP + 4)
    sheet = Image.new("RGB", (width, len(rows) * (CROP + 22)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, cells in enumerate(rows):
        for c, (label, cell) in enumerate(cells):
            x, y = c * (CROP + 4), r * (CROP + 22)
            draw.text((x + 2, y + 4), label, fill="black")
            sheet.paste(Image.fromarray(np.ascontiguousarray(cell)), (x, y + 20))
    sheet.save(arguments.output, optimize=True)
    print(f"wrote {arguments.output} ({sheet.width}x{sheet.height})")


if __name__ == "__main__":
    main()
