"""Headers read without Pillow: exact sizes, hostile chunk and text counts refused fast, other formats named."""

import io
import random
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylize.core import costs, headers, images
from stylize.core.recipe import recipe_text, settings_from_png
from stylize.core.settings import preset


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with(*chunks: bytes, width: int = 64, height: int = 48) -> bytes:
    """A PNG signature and header, the chunks given, then a token of pixels (one small IDAT) and IEND."""
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(chunks) + pixels + chunk(b"IEND", b"")


def noise(width: int, height: int, channels: int = 3) -> Image.Image:
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, channels), np.uint8)
    return Image.fromarray(pixels if channels > 1 else pixels[..., 0])


RGB, RGBA = noise(123, 45), noise(123, 45, 4)
SAMPLES = {  # name: (bytes, the WebP chunk expected or None)
    "png": (encode(RGB, "PNG"), None),
    "png-16-bit-grey": (encode(Image.fromarray(np.full((45, 123), 40000, np.uint16)), "PNG"), None),
    "jpeg": (encode(RGB, "JPEG", quality=90), None),
    "jpeg-progressive": (encode(RGB, "JPEG", quality=90, progressive=True), None),
    "jpeg-grey": (encode(RGB.convert("L"), "JPEG"), None),
    "webp-lossy": (encode(RGB, "WEBP", quality=80), b"VP8 "),
    "webp-lossless": (encode(RGB, "WEBP", lossless=True), b"VP8L"),
    "webp-alpha": (encode(RGBA, "WEBP", quality=80), b"VP8X"),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_sizes_are_exact_from_bytes_and_paths(name, tmp_path):
    data, webp_chunk = SAMPLES[name]
    if webp_chunk:
        assert data[12:16] == webp_chunk
    expected = Image.open(io.BytesIO(data))
    path = tmp_path / "picture"
    path.write_bytes(data)
    for source in (data, path, str(path)):
        header = headers.read(source, "photo")
        assert (header.format, header.width, header.height) == (expected.format, 123, 45)
        assert header.pixels == 123 * 45


@pytest.mark.parametrize("size", [(16, 16), (4000, 3000), (16383, 17)])
def test_sizes_at_the_edges_of_each_format(size):
    tiny = Image.new("RGB", size, (200, 100, 50))
    for format, options in [("PNG", {}), ("JPEG", {"progressive": True}), ("WEBP", {}), ("WEBP", {"lossless": True})]:
        header = headers.read(encode(tiny, format, **options))
        assert (header.format, header.width, header.height) == (format, *size)


def test_webp_extended_canvas_sides_need_24_bits():
    data = bytearray(SAMPLES["webp-alpha"][0])
    data[24:30] = (99_999).to_bytes(3, "little") + (19).to_bytes(3, "little")  # canvas sides minus one
    assert (headers.read(bytes(data)).width, headers.read(bytes(data)).height) == (100_000, 20)


def test_jpeg_fill_bytes_and_standalone_markers_are_walked():
    data = SAMPLES["jpeg"][0]
    assert data[2] == 0xFF
    padded = data[:2] + b"\xff" * 10_000 + b"\xff\xd0" + data[2:]  # fill bytes, then a lone RST0, then the rest
    assert (headers.read(padded).width, headers.read(padded).height) == (123, 45)


def test_a_jpeg_with_two_frame_headers_is_refused():
    data = SAMPLES["jpeg"][0]
    start = data.index(b"\xff\xc0")
    frame = data[start : start + 2 + struct.unpack(">H", data[start + 2 : start + 4])[0]]
    with pytest.raises(ValueError, match="two frame headers"):
        headers.read(data[:start] + frame + frame + data[start + len(frame) :])


def test_many_tiny_text_chunks_are_refused_fast(tmp_path):
    data = png_with(*[chunk(b"tEXt", b"k\0v")] * 100_000)
    path = tmp_path / "chunks.png"
    path.write_bytes(data)
    for source in (data, path):
        started = time.perf_counter()
        with pytest.raises(ValueError, match=f"more than {headers.MAX_CHUNKS} PNG chunks before its pixels"):
            images.read_header(source, "style image")
        assert time.perf_counter() - started < 1.0
    with pytest.raises(ValueError, match="PNG chunks"):
        images.load_image(path, "style image")


def test_many_jpeg_segments_are_refused_fast():
    data = SAMPLES["jpeg"][0]
    comments = b"\xff\xfe\x00\x03x" * 100_000
    started = time.perf_counter()
    with pytest.raises(ValueError, match=f"more than {headers.MAX_CHUNKS} JPEG segments"):
        images.read_header(data[:2] + comments + data[2:], "photo")
    assert time.perf_counter() - started < 1.0


def test_large_text_is_refused_by_its_length_without_reading_it(tmp_path):
    text = chunk(b"zTXt", b"comment\0\0" + b"x" * 5 * 2**20)
    message = "carries more than 1 MB of text in its PNG chunks"
    with pytest.raises(ValueError, match=message):
        images.read_header(png_with(text), "photo")
    # The same chunk's length with none of its text: refused from the length alone, not as a file cut short.
    claims = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 48, 8, 2, 0, 0, 0)) + text[:8]
    with pytest.raises(ValueError, match=message):
        headers.read(claims, "photo")
    # Text summed over chunks, each within the limit.
    with pytest.raises(ValueError, match=message):
        headers.read(png_with(*[chunk(b"iTXt", b"k\0\0\0\0\0" + b"y" * 300_000)] * 4))


def test_a_result_png_with_its_recipe_still_round_trips(tmp_path):
    settings = preset("balanced", size=384, seed=7)
    extra = {"styles": ["Swirls – café"], "note": "z" * 100_000}  # a long recipe, still well within the limit
    path = tmp_path / "result.png"
    images.save_png(path, np.full((16, 16, 3), 0.5, np.float32), recipe_text(settings, extra))
    header = images.read_header(path, "result")
    assert header.format == "PNG" and 100_000 < header.text_bytes < headers.MAX_TEXT_BYTES
    assert settings_from_png(path) == (settings, extra)


def test_a_jpeg_with_an_exif_orientation_still_loads_rotated():
    picture = Image.new("RGB", (80, 40), (0, 0, 255))
    exif = picture.getexif()
    exif[0x0112] = 6  # shown rotated 90 degrees
    data = encode(picture, "JPEG", exif=exif)
    header = images.read_header(data, "photo")
    assert (header.width, header.height) == (80, 40)  # as stored: the orientation is applied when decoding
    assert images.load_image(data, "photo").shape == (80, 40, 3)


@pytest.mark.parametrize(
    "data, name",
    [
        (encode(RGB, "GIF"), "a GIF file"),
        (encode(RGB, "GIF", save_all=True, append_images=[RGB.rotate(90)], comment=b"c" * 3000), "a GIF file"),
        (encode(RGB, "TIFF"), "a TIFF file"),
        (encode(RGB, "TIFF", compression="tiff_lzw"), "a TIFF file"),
        (encode(RGB, "BMP"), "a BMP file"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nshowpage\n", "an EPS file"),
        (b"%PDF-1.7\n", "a PDF file"),
        (b"\0\0\0\x1cftypheic\0\0\0\0mif1heic", "a HEIC file"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"></svg>', "an SVG drawing"),
    ],
)
def test_other_formats_are_named_in_one_line(data, name):
    with pytest.raises(ValueError) as caught:
        images.load_image(data, "style image")
    message = str(caught.value)
    assert message.startswith(f"style image is {name} but must be PNG, JPEG or WebP: save it as one of those")
    assert "\n" not in message


@pytest.mark.parametrize("data", [b"hello, not a picture", b"RIFF\x10\0\0\0WAVEfmt ", bytes(range(256)) * 4])
def test_anything_else_is_not_an_image(data):
    with pytest.raises(ValueError, match="^photo is not an image file: use PNG, JPEG or WebP$"):
        images.read_header(data, "photo")


@pytest.mark.parametrize("name", SAMPLES)
def test_cut_or_changed_files_get_a_value_error_and_nothing_else(name):
    data = SAMPLES[name][0]
    for cut in [*range(1, 64), len(data) // 4, len(data) // 2]:
        try:
            headers.read(data[:cut], "photo")
        except ValueError as error:
            assert "\n" not in str(error) and str(error).startswith("photo ")
    rng = random.Random(name)
    for _ in range(300):
        changed = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            changed[rng.randrange(min(len(data), 256))] = rng.randrange(256)
        try:
            header = headers.read(bytes(changed), "photo")
        except ValueError as error:
            assert "\n" not in str(error)
        else:
            try:  # where the header reads, Pillow reads the same size or refuses the file
                assert Image.open(io.BytesIO(bytes(changed))).size == (header.width, header.height)
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
                pass


@pytest.mark.parametrize("name", ["png", "jpeg", "webp-lossy"])
def test_files_cut_before_the_pixels_say_so(name):
    data = SAMPLES[name][0]
    for cut in (5, 10, 20, 26):
        with pytest.raises(ValueError, match="^photo could not be read .*: the file may be truncated or damaged$"):
            images.read_header(data[:cut], "photo")


@pytest.mark.parametrize("name", SAMPLES)
def test_read_header_never_calls_pillow(name, tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("Pillow was asked to open the file")

    monkeypatch.setattr(Image, "open", refused)
    path = tmp_path / "picture"
    path.write_bytes(SAMPLES[name][0])
    for source in (SAMPLES[name][0], path):
        assert images.read_header(source, "photo").width == 123
    for data in (encode(RGB, "GIF"), encode(RGB, "TIFF"), b"junk" * 10):
        with pytest.raises(ValueError):
            images.read_header(data, "photo")
    assert "PIL" not in Path(headers.__file__).read_text()


def test_read_header_checks_every_limit_before_pillow(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "open", None)  # any call would fail with a TypeError, not our messages
    with pytest.raises(ValueError, match="40000x40000 .* but must be at most 50 megapixels"):
        images.read_header(png_with(width=40_000, height=40_000), "photo")
    with pytest.raises(ValueError, match="each side must be at most 40000 px"):
        images.read_header(png_with(width=40_001, height=20), "photo")
    with pytest.raises(ValueError, match="each side must be at least 16 px"):
        images.read_header(png_with(width=8, height=30), "photo")
    with pytest.raises(ValueError, match="must be at most 1 megapixels"):
        images.read_header(png_with(width=2000, height=1000), "photo", max_pixels=10**6)
    with pytest.raises(ValueError, match="empty file"):
        images.read_header(b"", "photo")
    with pytest.raises(ValueError, match="no such file"):
        images.read_header(tmp_path / "missing.png", "photo")


def test_a_path_is_read_with_seeks_not_whole(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    path.write_bytes(png_with(*[chunk(b"teXt", b"x" * 1000)] * 5000))  # 5 MB of chunks before the pixels
    counted = []

    class Counting(io.FileIO):
        def read(self, size=-1):
            data = super().read(size)
            counted.append(len(data))
            return data

    monkeypatch.setattr(headers, "open", lambda file, *args, **kwargs: Counting(file), raising=False)
    assert images.read_header(path, "photo").chunks == 5001
    assert 5000 * 8 < sum(counted) < 100_000  # each chunk's length and kind, none of its data


def test_decoding_is_reserved_per_header_pixel():
    header = images.read_header(SAMPLES["png"][0], "photo")
    assert costs.decode_bytes(header.pixels) == costs.MEMORY["decode"].per_pixel * 123 * 45
    assert costs.decode_bytes(4000 * 3000) > 8 * 4000 * 3000  # Pillow's image and exif_transpose's copy at least
    assert costs.fast_bytes(512) == costs.MEMORY["fast"].bytes(512 * 512)  # its uploads' decoding counted apart
