"""Decoding with limits, orientation and every common mode, and atomic PNG writing."""

import io

import numpy as np
import pytest
from PIL import Image

from stylize.core import images


def encode(image: Image.Image, format="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def test_rgba_transparency_becomes_white():
    picture = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    assert images.load_image(encode(picture))[0, 0].tolist() == [1.0, 1.0, 1.0]


def test_palette_greyscale_and_cmyk_convert_to_rgb():
    for mode, colour in [("P", 3), ("L", 128), ("CMYK", (0, 255, 255, 0))]:
        decoded = images.load_image(encode(Image.new(mode, (20, 20), colour), "JPEG" if mode == "CMYK" else "PNG"))
        assert decoded.shape == (20, 20, 3) and decoded.dtype == np.float32
    assert images.load_image(encode(Image.new("L", (20, 20), 51)))[0, 0].tolist() == pytest.approx([0.2] * 3)
    cmyk = encode(Image.new("CMYK", (20, 20), (0, 255, 255, 0)), "JPEG", quality=100)
    assert images.load_image(cmyk)[0, 0].tolist() == pytest.approx([1.0, 0.0, 0.0], abs=0.02)


def test_sixteen_bit_greyscale_keeps_its_scale():
    array = np.full((20, 20), 65535 // 2, dtype=np.uint16)
    decoded = images.load_image(encode(Image.fromarray(array)))
    assert decoded[0, 0, 0] == pytest.approx(0.5, abs=1e-3)


def test_exif_orientation_is_applied():
    picture = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = picture.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    decoded = images.load_image(encode(picture, "JPEG", exif=exif))
    assert decoded.shape == (40, 20, 3)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty file"),
        (b"hello, not a picture", "not an image file: use PNG, JPEG or WebP"),
        (encode(Image.new("RGB", (8, 30))), "each side must be at least 16 px"),
        (encode(Image.new("RGB", (20, 20)), "GIF"), "is a GIF file but must be PNG, JPEG or WebP"),
        (encode(Image.new("RGB", (20, 20)), "TIFF"), "is a TIFF file but must be PNG, JPEG or WebP"),
        (encode(Image.new("RGB", (20, 20)), "BMP"), "is a BMP file but must be PNG, JPEG or WebP"),
    ],
)
def test_bad_inputs_get_one_line_messages(data, message):
    with pytest.raises(ValueError, match=message) as caught:
        images.load_image(data, "style image")
    assert "\n" not in str(caught.value) and str(caught.value).startswith("style image")


def test_truncated_file_is_explained():
    data = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)), "JPEG")
    with pytest.raises(ValueError, match="could not be decoded"):
        images.load_image(data[: len(data) // 2])


def test_huge_pixel_count_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 1000)
    with pytest.raises(ValueError, match="40x40 .* but must be at most"):
        images.load_image(encode(Image.new("RGB", (40, 40))))


def test_pillow_opens_only_what_the_header_reader_passed(monkeypatch):
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: opened.append(kwargs) or real_open(*args, **kwargs))
    for format in ("PNG", "JPEG", "WEBP"):
        with images.open_image(encode(Image.new("RGB", (40, 30)), format), "photo") as picture:
            assert picture.format == format and picture.size == (40, 30)
    assert opened == [{"formats": ("PNG", "JPEG", "WEBP")}] * 3
    for format in ("GIF", "TIFF", "BMP"):
        with pytest.raises(ValueError, match=f"photo is a {format} file"):
            images.open_image(encode(Image.new("RGB", (40, 30)), format), "photo")
    assert len(opened) == 3  # refused from the first bytes: Pillow never saw them


def test_huge_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.png"
    path.write_bytes(encode(Image.new("RGB", (64, 64))) + b"\0" * 200)
    with pytest.raises(ValueError, match="must be at most"):
        images.load_image(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        images.load_image(tmp_path / "nope.jpg", "content image")


def test_resize_keeps_aspect_with_the_seed_rounding():
    assert images.scaled_shape(300, 400, 512) == (384, 512)
    assert images.scaled_shape(1000, 333, 512) == (512, 170)  # truncated, as the seed program did
    assert images.resize_longer_side(np.zeros((30, 40, 3), np.float32), 64).shape == (48, 64, 3)


def test_float_uint8_round_trip():
    pixels = np.random.default_rng(0).integers(0, 256, (16, 16, 3), np.uint8)
    np.testing.assert_array_equal(images.to_uint8(images.load_image(pixels)), pixels)


def test_png_is_lossless_carries_text_and_is_written_atomically(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (16, 16, 3), np.uint8)
    path = tmp_path / "out" / "result.png"
    images.save_png(path, pixels, {"stylize:settings": '{"steps": 3}'})
    np.testing.assert_array_equal(np.asarray(Image.open(path)), pixels)
    assert images.read_png_text(path) == {"stylize:settings": '{"steps": 3}'}
    assert [p.name for p in path.parent.iterdir()] == ["result.png"]  # no temporary left behind


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "result.png"
    path.write_bytes(b"old")

    def disk_full(_):
        raise OSError("No space left on device")

    monkeypatch.setattr(images.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        images.write_atomically(path, b"new picture")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]


def test_the_upload_limit_takes_back_the_largest_png_the_studio_writes():
    from stylize.core.settings import SIZE_RANGE

    assert images.MAX_FILE_BYTES >= SIZE_RANGE[1] ** 2 * 3  # a 4096 px square poster's pixels, uncompressed
