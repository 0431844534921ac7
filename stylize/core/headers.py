"""What a picture file says about itself (format, size, text), read from its first bytes without Pillow."""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

FORMATS = ("PNG", "JPEG", "WEBP")  # what the studio needs; Pillow's GIF and TIFF headers can be made expensive
MAX_CHUNKS = 10_000  # PNG chunks or JPEG segments before the pixels: a real picture has tens
MAX_TEXT_BYTES = 2**20  # PNG text chunks before the pixels: a result's recipe is a few kB
SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF")  # PNG, JPEG, WebP (RIFF, its size, WEBP)
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}  # by colour type
JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}  # SOFn
JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length

# Formats told apart by their first bytes, named so that a person knows what to convert.
OTHER_FORMATS = [
    (0, (b"GIF87a", b"GIF89a"), "a GIF"),
    (0, (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"), "a TIFF"),
    (0, (b"BM",), "a BMP"),
    (0, (b"%!PS", b"\xc5\xd0\xd3\xc6"), "an EPS"),
    (0, (b"%PDF",), "a PDF"),
    (0, (b"8BPS",), "a Photoshop (PSD)"),
    (0, (b"\0\0\1\0",), "an icon (ICO)"),
    (0, (b"\0\0\0\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51"), "a JPEG 2000"),
    (0, (b"\xff\x0a", b"\0\0\0\x0cJXL \r\n\x87\n"), "a JPEG XL"),
    (0, (b"qoif",), "a QOI"),
    (4, (b"ftypheic", b"ftypheix", b"ftyphevc", b"ftyphevx"), "a HEIC"),
    (4, (b"ftypavif", b"ftypavis"), "an AVIF"),
    (4, (b"ftypmif1", b"ftypmsf1"), "a HEIF"),
]


@dataclass(frozen=True)
class Header:
    """A picture's format and size as its file states them, before any pixel is read."""

    format: str  # one of FORMATS
    width: int
    height: int
    text_bytes: int = 0  # PNG: the text chunks' (tEXt, zTXt, iTXt) data before the pixels
    chunks: int = 0  # PNG chunks or JPEG segments walked before the pixels

    @property
    def pixels(self) -> int:
        return self.width * self.height


class _File:
    """Reads at offsets of a file or bytes; a read past the end is a file cut short."""

    def __init__(self, file: BinaryIO, what: str):
        self.file, self.what = file, what
        self.size = file.seek(0, os.SEEK_END)

    def read(self, offset: int, count: int) -> bytes:
        if offset + count > self.size:
            raise self.cut_short()
        self.file.seek(offset)
        data = self.file.read(count)
        if len(data) < count:  # the file shrank while being read
            raise self.cut_short()
        return data

    def cut_short(self) -> ValueError:
        return self.damaged("it ends too early")

    def damaged(self, detail: str) -> ValueError:
        return ValueError(f"{self.what} could not be read ({detail}): the file may be truncated or damaged")


def read(source: str | os.PathLike | bytes, what: str = "image") -> Header:
    """The header of a PNG, JPEG or WebP file or its bytes, in time linear in the bytes read (a path is read with
    seeks, never whole); ValueError, one line, for other formats, damaged, truncated or too-large headers."""
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb", buffering=0) as file:  # unbuffered: each read takes only the bytes asked for
                return parse(file, what)
        except OSError as error:
            raise ValueError(f"{what} could not be opened ({error.strerror or error}): choose another file") from None
    return parse(io.BytesIO(source), what)  # BytesIO shares bytes: nothing is copied


def parse(file: BinaryIO, what: str = "image") -> Header:
    """read() on an open binary file."""
    reader = _File(file, what)
    if reader.size == 0:
        raise ValueError(f"{what} is an empty file: choose a picture file (PNG, JPEG or WebP)")
    start = reader.read(0, min(reader.size, 16))
    if start.startswith(SIGNATURES[0]):
        return _png(reader)
    if start.startswith(SIGNATURES[1]):
        return _jpeg(reader)
    if start.startswith(b"RIFF") and start[8:12] == b"WEBP":
        return _webp(reader)
    for offset, signatures, name in OTHER_FORMATS:
        if any(start[offset:].startswith(signature) for signature in signatures):
            raise ValueError(f"{what} is {name} file but must be PNG, JPEG or WebP: save it as one of those")
    if start.lstrip().lower().startswith((b"<svg", b"<?xml")):
        raise ValueError(f"{what} is an SVG drawing but must be PNG, JPEG or WebP: save it as one of those")
    if len(start) < 12 and any(signature.startswith(start[: len(signature)]) for signature in SIGNATURES):
        raise reader.damaged("it ends too early")
    raise ValueError(f"{what} is not an image file: use PNG, JPEG or WebP")


def _png(file: _File) -> Header:
    length, kind = struct.unpack(">I4s", file.read(8, 8))
    if kind != b"IHDR" or length != 13:
        raise file.damaged("a PNG whose first chunk is not its header")
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", file.read(16, 13))
    if depth not in PNG_DEPTHS.get(colour, ()):
        raise file.damaged(f"a PNG of colour type {colour} at {depth} bits")
    offset, chunks, text = 33, 1, 0  # after the signature and the header's length, kind, data and CRC
    while True:
        length, kind = struct.unpack(">I4s", file.read(offset, 8))
        if kind == b"IDAT":
            return Header("PNG", width, height, text, chunks)
        if kind == b"IEND" or length >= 2**31:
            raise file.damaged("a PNG without pixels" if kind == b"IEND" else "a PNG chunk's length is out of range")
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise ValueError(
                f"{file.what} has more than {MAX_CHUNKS} PNG chunks before its pixels: save it again without "
                "its extra data"
            )
        if kind in TEXT_CHUNKS:
            text += length
            if text > MAX_TEXT_BYTES:  # refused from the lengths: the text itself is never read
                raise ValueError(
                    f"{file.what} carries more than {MAX_TEXT_BYTES / 2**20:.0f} MB of text in its PNG chunks: save "
                    "it again without its metadata"
                )
        offset += 12 + length  # length, kind, data and CRC
        if offset > file.size:
            raise file.cut_short()


def _jpeg(file: _File) -> Header:
    offset, segments, size = 2, 0, None  # after SOI
    while True:
        marker, offset = _marker(file, offset)
        segments += 1
        if segments > MAX_CHUNKS:
            raise ValueError(
                f"{file.what} has more than {MAX_CHUNKS} JPEG segments before its pixels: save it again without "
                "its extra data"
            )
        if marker in JPEG_STANDALONE:
            continue
        if marker in (0x00, 0xD8, 0xD9):
            raise file.damaged(
                "a JPEG that ends before its pixels" if marker == 0xD9 else f"JPEG marker 0x{marker:02X}"
            )
        if marker == 0xDA:  # SOS: the pixels follow
            if size is None:
                raise file.damaged("a JPEG without a frame header")
            return Header("JPEG", size[1], size[0], 0, segments)
        (length,) = struct.unpack(">H", file.read(offset, 2))
        if length < 2:
            raise file.damaged("a JPEG segment's length is out of range")
        if marker in JPEG_FRAMES:
            if size is not None:  # libjpeg refuses a second one too; Pillow would take the last
                raise file.damaged("a JPEG with two frame headers")
            if length < 8:
                raise file.damaged("a JPEG frame header too short")
            size = struct.unpack(">HH", file.read(offset + 3, 4))  # after the sample precision: height, width
        offset += length
        if offset > file.size:
            raise file.cut_short()


def _marker(file: _File, offset: int) -> tuple[int, int]:
    """The JPEG marker at offset, past any fill bytes (0xFF) before it, and the offset after it."""
    if file.read(offset, 1) != b"\xff":
        raise file.damaged(f"JPEG byte 0x{file.read(offset, 1)[0]:02X} where a marker should be")
    offset += 1
    while True:  # fill bytes are read in blocks, so a run of them costs no more than their reading
        block = file.read(offset, min(file.size - offset, 4096) or 1)
        marker = block.lstrip(b"\xff")
        if marker:
            return marker[0], offset + len(block) - len(marker) + 1
        offset += len(block)


def _webp(file: _File) -> Header:
    kind, length = struct.unpack("<4sI", file.read(12, 8))
    if kind == b"VP8 ":  # lossy: a key frame's tag, start code, then 14-bit sides (2 bits of upscaling above)
        tag, start, width, height = struct.unpack("<3s3sHH", file.read(20, 10))
        if length < 10 or tag[0] & 1 or start != b"\x9d\x01\x2a":
            raise file.damaged("a lossy WebP without a key frame header")
        width, height = width & 0x3FFF, height & 0x3FFF
    elif kind == b"VP8L":  # lossless: a signature byte, then sides minus one in 14 bits each
        signature, bits = struct.unpack("<BI", file.read(20, 5))
        if length < 5 or signature != 0x2F or bits >> 29:
            raise file.damaged("a lossless WebP header with the wrong signature")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif kind == b"VP8X":  # extended (alpha, animation, metadata): the canvas's sides minus one in 24 bits each
        data = file.read(20, 10)
        if length < 10:
            raise file.damaged("a WebP extended header too short")
        width, height = int.from_bytes(data[4:7], "little") + 1, int.from_bytes(data[7:10], "little") + 1
    else:
        raise file.damaged(f"a WebP whose first chunk is {kind.decode('latin-1')!r}")
    return Header("WEBP", width, height, 0, 1)
