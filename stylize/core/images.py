"""Images in and out: decode with limits, EXIF orientation, any mode to RGB, resizing, float <-> uint8, PNG."""

from __future__ import annotations

import base64
import binascii
import io
import os
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from . import headers
from .errors import one_line
from .files import write_atomically
from .headers import Header
from .settings import MIN_SIDE

MAX_FILE_BYTES = 50 * 1024 * 1024  # uploads above this are refused before reading: above the largest PNG the studio
# writes, so a poster comes back with its recipe (4096x3072: 26.9 MB; 4096x4096 holds 48 MB of pixels)
MAX_PIXELS = 50_000_000  # decoded size limit, checked from the header before decoding
# Only these decoders are used, and headers.py reads their headers before Pillow does: the studio needs no more,
# EPS would run Ghostscript on a stranger's file, rarer formats are rarely fuzzed, and GIF and TIFF headers can be
# made expensive to parse (Pillow reads a GIF's comment blocks in quadratic time and keeps an object per TIFF strip).
FORMATS = headers.FORMATS
MAX_SIDE = 40_000  # a longer side than this is refused even within MAX_PIXELS (1x50000 strips)
# Errors Pillow raises for a damaged, truncated, hostile or too-large file, while opening or decoding.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)

# Pillow's own decompression-bomb guard, at our limit, for code that decodes before load_image can check.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

ImageSource = str | os.PathLike | bytes | Image.Image | np.ndarray


def load_image(source: ImageSource, what: str = "image", max_side: int | None = None) -> np.ndarray:
    """Decode a path, bytes, PIL image or array into float32 RGB in [0, 1], HxWx3; ValueError says what's wrong.

    max_side shrinks a larger picture while decoding (JPEG decodes at 1/2, 1/4 or 1/8 directly), so a 50 MP
    upload for a 512 px run never becomes 600 MB of float32; the caller passes about twice the size it needs.
    """
    if isinstance(source, np.ndarray):
        return array_to_float_rgb(source, what)
    if isinstance(source, Image.Image):
        return pil_to_float_rgb(source, what, max_side)
    with open_image(source, what) as opened:
        return pil_to_float_rgb(opened, what, max_side)


def open_image(source: str | os.PathLike | bytes, what: str = "image", max_pixels: int | None = None) -> Image.Image:
    """Check the header (read_header), then open the file or bytes lazily with Pillow: nothing is decoded yet."""
    read_header(source, what, max_pixels)
    opened = _open(Path(source) if isinstance(source, (str, os.PathLike)) else io.BytesIO(source), what)
    try:
        check_header(opened, what, max_pixels)  # Pillow's reading of the same header, checked again
    except ValueError:
        opened.close()
        raise
    return opened


def read_header(source: str | os.PathLike | bytes, what: str = "image", max_pixels: int | None = None) -> Header:
    """A file's or bytes' format and size, checked against every limit (file size, pixels, sides, text) without
    Pillow, in time linear in the few bytes read: what may be done before a slot, the decoding inside it."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"{what}: no such file {str(path)!r}")
        _check_file_size(path.stat().st_size, what)
    else:
        _check_file_size(len(source), what)
    header = headers.read(source, what)
    check_sides(header.width, header.height, what, max_pixels)
    return header


def check_header(image: Image.Image, what: str, max_pixels: int | None = None) -> None:
    """Refuse a picture whose header says it is too large to decode, before any pixel is read."""
    check_sides(*image.size, what, max_pixels)


def check_sides(width: int, height: int, what: str, max_pixels: int | None = None) -> None:
    """Refuse a picture of width x height beyond the pixel limit or the sides' limits (MAX_SIDE, MIN_SIDE)."""
    max_pixels = max_pixels or MAX_PIXELS
    if width * height > max_pixels:
        raise ValueError(
            f"{what} is {width}x{height} ({width * height / 1e6:.0f} megapixels) but must be at most "
            f"{max_pixels / 1e6:.0f} megapixels: scale it down first"
        )
    if max(width, height) > MAX_SIDE:
        raise ValueError(f"{what} is {width}x{height} but each side must be at most {MAX_SIDE} px")
    if min(width, height) < MIN_SIDE:
        raise ValueError(f"{what} is {width}x{height} but each side must be at least {MIN_SIDE} px")


def decode_data_url(url: str, what: str = "image") -> bytes:
    """The bytes of a base64 data: URL, refused from its length before decoding (JSON skips the upload limit)."""
    encoded = url.split(",", 1)[-1]
    _check_file_size(len(encoded) * 3 // 4, what)
    try:
        return base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64 data: send the picture as a file") from None


def _check_file_size(size: int, what: str) -> None:
    if size == 0:
        raise ValueError(f"{what} is an empty file: choose a picture file (PNG, JPEG or WebP)")
    if size > MAX_FILE_BYTES:
        raise ValueError(
            f"{what} is {size / 2**20:.1f} MB but must be at most {MAX_FILE_BYTES / 2**20:.0f} MB: "
            "save it smaller or as JPEG"
        )


def _open(file, what: str) -> Image.Image:
    try:
        with warnings.catch_warnings():  # Pillow's warning between our limit and twice it: our message instead
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(file, formats=FORMATS)
    except UnidentifiedImageError:
        raise ValueError(f"{what} is not an image file Pillow can read: use PNG, JPEG or WebP") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # checked from the header on opening
        raise ValueError(f"{what} is larger than {MAX_PIXELS / 1e6:.0f} megapixels: scale it down first") from None
    except DECODE_ERRORS as error:
        raise ValueError(
            f"{what} could not be read ({one_line(error)}): the file may be truncated or damaged"
        ) from None


def pil_to_float_rgb(image: Image.Image, what: str = "image", max_side: int | None = None) -> np.ndarray:
    """Check the size from the header, then decode, orient and convert any mode to float32 RGB in [0, 1]."""
    check_header(image, what)
    try:
        if max_side and max(image.size) > max_side and image.format == "JPEG":
            image.draft("RGB", (max_side, max_side))  # DCT scaling: decodes straight to a smaller size
        image = ImageOps.exif_transpose(image)  # phones store portraits sideways plus an orientation tag
        image.load()
        if max_side and max(image.size) > max_side:
            scale = max_side / max(image.size)  # a strip keeps its short side; check_sizes then explains
            shape = [max(MIN_SIDE, round(side * scale)) for side in image.size]
            image = image.resize(shape, Image.Resampling.LANCZOS)
        pixels = _mode_to_array(image)
    except MemoryError:
        raise ValueError(f"{what} is too large to decode in this machine's free memory: scale it down first") from None
    except DECODE_ERRORS as error:
        raise ValueError(
            f"{what} could not be decoded ({one_line(error)}): the file may be truncated or damaged"
        ) from None
    return array_to_float_rgb(pixels, what)


def _mode_to_array(image: Image.Image) -> np.ndarray:
    """Pixels as an array in a mode numpy understands, transparency flattened onto white."""
    if image.mode.startswith("I"):  # 16- or 32-bit greyscale (16-bit PNG, TIFF): keep the depth
        values = np.asarray(image.convert("I"), dtype=np.float32)
        full_scale = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        return values / full_scale
    if image.mode == "F":
        return np.asarray(image, dtype=np.float32)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent areas would otherwise turn black; white is what a viewer showed the user.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))  # L, 1, P, CMYK, YCbCr, LAB, HSV, RGBX


def array_to_float_rgb(array: np.ndarray, what: str = "image") -> np.ndarray:
    """uint8/uint16/float arrays, greyscale or RGB(A), to float32 RGB in [0, 1]."""
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]  # an RGBA array from Gradio has already been composited, or has no alpha to keep
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] not in (1, 3):
        raise ValueError(f"{what} has shape {array.shape} but must be HxW, HxWx1, HxWx3 or HxWx4")
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    if min(array.shape[:2]) < MIN_SIDE:
        raise ValueError(f"{what} is {array.shape[1]}x{array.shape[0]} but each side must be at least {MIN_SIDE} px")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{what} contains NaN or infinite pixel values")
        return np.clip(array, 0.0, 1.0).astype(np.float32)
    raise ValueError(f"{what} has pixel type {array.dtype} but must be uint8, uint16 or float")


def scaled_shape(height: int, width: int, longer_side: int) -> tuple[int, int]:
    """(height, width) with the longer side set to longer_side, aspect kept, truncated as the seed program did."""
    scale = longer_side / max(height, width)
    return max(1, int(height * scale)), max(1, int(width * scale))


def resize(image: np.ndarray | tf.Tensor, shape: tuple[int, int], antialias: bool = True) -> np.ndarray:
    """Bilinear resize of float HxWx3 to (height, width); antialias matters only when shrinking."""
    resized = tf.image.resize(image, shape, method="bilinear", antialias=antialias)
    return np.clip(resized.numpy(), 0.0, 1.0).astype(np.float32)


def resize_longer_side(image: np.ndarray, longer_side: int, antialias: bool = True) -> np.ndarray:
    height, width = image.shape[:2]
    return resize(image, scaled_shape(height, width, longer_side), antialias)


def to_uint8(image: np.ndarray | tf.Tensor) -> np.ndarray:
    """Float [0, 1] (HxWx3 or 1xHxWx3) to uint8 HxWx3, rounded."""
    array = np.asarray(image)
    if array.ndim == 4:
        array = array[0]
    return np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)


def png_bytes(image: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """Lossless PNG of a uint8 or float image, with optional text chunks (settings, network, seed)."""
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value)
    buffer = io.BytesIO()
    pixels = image if image.dtype == np.uint8 else to_uint8(image)
    Image.fromarray(pixels).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def save_png(path: str | os.PathLike, image: np.ndarray, text: dict[str, str] | None = None) -> None:
    write_atomically(path, png_bytes(image, text))


def read_png_text(source: str | os.PathLike | bytes, max_pixels: int | None = None) -> dict[str, str]:
    """The text chunks of a PNG (empty for JPEG and WebP); the header is checked first, as reading them decodes.

    Pillow reads text chunks after the pixels by decoding the picture (every frame of an animated PNG),
    so a size or frame count beyond what a result can have is refused before.
    """
    if isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
        raise FileNotFoundError(source)
    with open_image(source, "this file", max_pixels) as image:
        frames = getattr(image, "n_frames", 1)  # only formats that can hold frames (PNG, WebP, JPEG's MPO) have it
        if frames > 1:
            raise ValueError(f"this picture has {frames} frames but a result PNG has one")
        try:
            return {key: str(value) for key, value in getattr(image, "text", {}).items()}
        except DECODE_ERRORS as error:
            raise ValueError(
                f"this PNG could not be read ({one_line(error)}): the file may be truncated or damaged"
            ) from None
