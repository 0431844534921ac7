"""Hostile and careless uploads, made small and fast in a folder: each must work or get one line, never a traceback."""

from __future__ import annotations

import functools
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

SCRIPT = "<img src=x onerror=alert(document.domain)>"


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming width x height, with one tiny IDAT: no pixels are allocated."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def gif_comment_bomb(blocks: int = 3000) -> bytes:
    """A 16x16 GIF whose comment runs to blocks sub-blocks of 255 bytes: Pillow reads such comments in quadratic
    time while it opens the file."""
    comment = b"\x21\xfe" + (b"\xff" + b"A" * 255) * blocks + b"\x00"
    image = b"\x2c" + struct.pack("<HHHH", 0, 0, 16, 16) + b"\x00\x02\x02\x4c\x01\x00"
    return b"GIF89a" + struct.pack("<HH", 16, 16) + b"\x00\x00\x00" + comment + image + b"\x3b"


def tiff_strip_bomb(strips: int = 150_000) -> bytes:
    """A 16 x strips TIFF of one-row strips: Pillow keeps an object per strip while it opens the file."""
    offsets = 8 + 2 + 6 * 12 + 4
    counts = offsets + 4 * strips
    pixels = counts + 4 * strips

    def entry(tag: int, kind: int, count: int, value: int) -> bytes:
        return struct.pack("<HHII", tag, kind, count, value)

    ifd = struct.pack("<H", 6) + b"".join(
        [
            entry(256, 4, 1, 16),  # width
            entry(257, 4, 1, strips),  # height
            entry(262, 3, 1, 1),  # black is zero
            entry(273, 4, strips, offsets),  # strip offsets
            entry(278, 4, 1, 1),  # rows per strip
            entry(279, 4, strips, counts),  # strip byte counts
        ]
    )
    return (
        b"II*\x00"
        + struct.pack("<I", 8)
        + ifd
        + b"\x00" * 4
        + struct.pack(f"<{strips}I", *[pixels + 16 * i for i in range(strips)])
        + struct.pack(f"<{strips}I", *[16] * strips)
        + b"\x80" * (16 * strips)
    )


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def recipe_png(pixels: np.ndarray, settings: dict, extra: dict | None = None, raw: str | None = None) -> bytes:
    """A result-like PNG of pixels whose recipe says whatever a stranger wrote."""
    info = PngImagePlugin.PngInfo()
    recipe = raw if raw is not None else json.dumps({"format": 1, "settings": settings, "extra": extra or {}})
    info.add_itxt("stylize", recipe)
    return encode(Image.fromarray(pixels), "PNG", pnginfo=info)


def photo(make_picture, height: int, width: int, seed: int = 3) -> np.ndarray:
    """make_picture (the conftest fixture) as uint8 pixels."""
    return (make_picture(height, width, seed) * 255).astype(np.uint8)


def make_all(folder: Path, make_picture) -> dict[str, Path]:
    """Every hostile picture as a file in folder, by name; they take well under a second to make."""
    photo_of = functools.partial(photo, make_picture)
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 255, (96, 128, 3), np.uint8))
    png, jpeg = encode(noisy, "PNG"), encode(noisy, "JPEG", quality=90)
    frames = [Image.fromarray(photo_of(64, 64, seed)) for seed in (1, 2, 3)]
    rotated = Image.fromarray(photo_of(40, 80))
    small = photo_of(48, 64)  # the picture inside the recipe PNGs, and the CMYK and 16-bit ones
    exif = rotated.getexif()
    exif[0x0112] = 6  # shown rotated 90 degrees
    nan_tiff = np.full((32, 32), 0.5, np.float32)
    nan_tiff[4:8, 4:8] = np.nan
    files = {
        "empty.png": b"",
        "random-bytes.jpg": rng.integers(0, 256, 4096, np.uint8).tobytes(),
        "truncated.png": png[: len(png) // 2],
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "header-40000x40000.png": png_header_only(40000, 40000),
        "header-144mp.png": png_header_only(12000, 12000),
        "header-60mp.png": png_header_only(10000, 6000),  # between our 50 MP limit and Pillow's 100 MP bomb error
        "strip-1x20000.png": encode(Image.new("RGB", (1, 20000), (200, 100, 50)), "PNG"),
        "animated.gif": encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0),
        "animated.webp": encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100),
        "exif-rotated.jpg": encode(rotated, "JPEG", exif=exif),
        "cmyk.jpg": encode(Image.fromarray(small).convert("CMYK"), "JPEG"),
        "sixteen-bit.png": encode(Image.fromarray(small[..., 0].astype(np.uint16) * 257), "PNG"),
        "float-nan.tif": encode(Image.fromarray(nan_tiff, mode="F"), "TIFF"),
        "drawing.svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><script>alert(1)</script>'
        b'<rect width="64" height="64"/></svg>',
        "drawing.eps": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nnewpath 0 0 moveto 64 64 lineto stroke\n"
        b"showpage\n%%EOF\n",
        "text-named.png": b"this is a text file, not a picture\n" * 4,
        "hostile-recipe.png": recipe_png(
            small,
            {
                "size": 4096,
                "start_size": 2000,
                "steps": 5.0,
                "coarse_steps": 3.0,
                "style_weight": 1e9,
                "weights_path": "/etc/passwd",
            },
            {"network": SCRIPT, "content": SCRIPT},
        ),
        "nested-recipe.png": recipe_png(small, {}, raw="[" * 100_000 + "]" * 100_000),
        "blend-recipe.png": recipe_png(small, {"style_blend": 5}),
    }
    return written(folder, files)


def written(folder: Path, files: dict[str, bytes]) -> dict[str, Path]:
    """Each file's bytes written in folder under its name; their paths by name."""
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


def one_line_error(call) -> str:
    """The error call raises (through gradio_client: the page's one line), checked to be one line, no traceback."""
    import pytest

    with pytest.raises(Exception) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message, message
    return message


# What each gets as a content photo: a fragment of its one-line message, or None where it works.
EXPECTED = {
    "empty.png": "empty file",
    "random-bytes.jpg": "is not an image file",
    "truncated.png": "truncated or damaged",
    "truncated.jpg": "truncated or damaged",
    "header-40000x40000.png": "megapixels",
    "header-144mp.png": "megapixels",
    "header-60mp.png": "megapixels",
    "strip-1x20000.png": "each side must be at least 16 px",
    "animated.gif": "is a GIF file but must be PNG, JPEG or WebP",
    "animated.webp": None,
    "exif-rotated.jpg": None,
    "cmyk.jpg": None,
    "sixteen-bit.png": None,
    "float-nan.tif": "is a TIFF file but must be PNG, JPEG or WebP",
    "drawing.svg": "is an SVG drawing",
    "drawing.eps": "is an EPS file",
    "text-named.png": "is not an image file",
    "hostile-recipe.png": None,  # as a picture it is an ordinary PNG
    "nested-recipe.png": None,
    "blend-recipe.png": None,
}


def lavfi_clip(path: Path, source: str, *options: str) -> bytes:
    """A file made by imageio-ffmpeg's ffmpeg from a generated source (lavfi: testsrc, sine), its bytes."""
    import subprocess

    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", source]
    subprocess.run([*command, *options, "-y", str(path)], check=True, capture_output=True, timeout=60)
    return path.read_bytes()


def make_clips(folder: Path) -> dict[str, Path]:
    """Every hostile or careless clip as a file in folder, by name (each named .mp4, whatever it holds); they take
    a second or two to make."""
    h264 = ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "mp4")
    scratch = folder / "scratch.mp4"
    plain = lavfi_clip(scratch, "testsrc=size=96x64:rate=12:duration=2", *h264)
    faststart = lavfi_clip(scratch, "testsrc=size=96x64:rate=12:duration=2", *h264[:-2], "-movflags", "+faststart")
    files = {
        "empty.mp4": b"",
        "random-bytes.mp4": np.random.default_rng(1).integers(0, 256, 4096, np.uint8).tobytes(),
        "truncated.mp4": plain[: len(plain) // 2],  # its index (moov) is at the end: cut off
        "truncated-faststart.mp4": faststart[: len(faststart) * 3 // 4],  # index first, the last frames gone
        "first-frame-cut.mp4": faststart[: len(faststart) // 2],  # index first, cut inside the first key frame
        "picture.mp4": encode(Image.new("RGB", (64, 48), (200, 100, 50)), "PNG"),
        "animated-gif.mp4": encode(
            Image.new("RGB", (32, 32)), "GIF", save_all=True, append_images=[Image.new("RGB", (32, 32), "red")]
        ),
        "text.mp4": b"this is a text file, not a video\n" * 8,
        "playlist.mp4": b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
        "concat.mp4": b"ffconcat version 1.0\nfile '/etc/passwd'\n",
        "sound-only.mp4": lavfi_clip(scratch, "sine=frequency=440:duration=1", "-c:a", "aac", "-f", "mp4"),
        "wide-2400px.mp4": lavfi_clip(scratch, "testsrc=size=2400x16:rate=2:duration=1", *h264),
        "long-40s.mp4": lavfi_clip(scratch, "testsrc=size=16x16:rate=1:duration=40", *h264),
        "fast-120fps.mp4": lavfi_clip(scratch, "testsrc=size=16x16:rate=120:duration=0.5", *h264),
        "odd-sides.mp4": lavfi_clip(
            scratch, "testsrc=size=97x63:rate=12:duration=1", "-c:v", "libx264", "-pix_fmt", "yuv444p", "-f", "mp4"
        ),
    }
    scratch.unlink()
    return written(folder, files)


# What each gets as the Video tab's clip (a public server's limits): a fragment of its one line, or None where
# it works.
EXPECTED_CLIPS = {
    "empty.mp4": "is empty",
    "random-bytes.mp4": "is not a video",
    "truncated.mp4": "is not a video",
    "truncated-faststart.mp4": None,  # the frames that are there
    "first-frame-cut.mp4": "has no frame that can be decoded",
    "picture.mp4": "is not a video",
    "animated-gif.mp4": "is not a video",
    "text.mp4": "is not a video",
    "playlist.mp4": "is not a video",  # never opened as a playlist: it would read other files
    "concat.mp4": "is not a video",
    "sound-only.mp4": "has no video stream",
    "wide-2400px.mp4": "longer side may be at most 1920 px",
    "long-40s.mp4": "may last at most 30 s",
    "fast-120fps.mp4": "may have at most 60",
    "odd-sides.mp4": None,
}
